// indi_baseclient_probe: a tiny INDI client built on indilib's own INDI::BaseClient (libindiclient
// 1.9.9, the library KStars/Ekos and PHD2 use), for the interop tests in tests/interop.
//
//   indi_baseclient_probe HOST PORT [--watch DEVICE]... [--verbose]
//
// It connects to HOST:PORT and prints every BaseClient callback as one line of JSON on stdout
// ("cb" names the callback), flushing after each line. BLOBs are summarised, not printed:
// size, format, decoded length, a 64-bit FNV-1a of the decoded bytes and one of their first `size`
// bytes, their first 16 bytes in hex, and for a FITS file its header length and BITPIX/NAXISn.
// Commands come on stdin, one per line; words are separated by spaces and may be double-quoted ("CCD Simulator", NAME="North Dome"),
// with \" and \\ inside quotes:
//
//   number DEV PROP MEMBER=VALUE...    set members of the client's copy, then sendNewNumber
//   switch DEV PROP MEMBER=On|Off...   likewise, then sendNewSwitch (a member turned On in a
//                                      OneOfMany/AtMostOne vector turns the others Off first,
//                                      as a GUI does)
//   text DEV PROP MEMBER=VALUE...      likewise, then sendNewText
//   blobmode DEV [PROP] Never|Also|Only   setBLOBMode
//   directblob DEV [PROP]              enableDirectBlobAccess: BLOBs passed as memfds (a
//                                      server's Unix socket) are mapped, not copied
//   ping UID                           sendPingRequest (the reply is the newPingReply line)
//   get DEV PROP                       print the client's current copy of a property
//   quit                               disconnectServer and exit 0 (so does end of input)
//
// Every command is answered with {"cb":"ack","cmd":...,"ok":true|false[,"error":...]} once the
// library has written it. Exit codes: 0 after quit, 2 when the connection cannot be made, 3 on a
// usage error.

#include <baseclient.h>
#include <basedevice.h>
#include <indicom.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace
{

std::mutex out_mutex;

// One finished JSON line to stdout, whole, whatever thread calls it.
void emit(const std::string &line)
{
    std::lock_guard<std::mutex> lock(out_mutex);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

std::string quote(const char *text)
{
    if (text == nullptr)
        return "null";
    std::string out = "\"";
    for (const char *p = text; *p; ++p)
    {
        const unsigned char c = static_cast<unsigned char>(*p);
        switch (c)
        {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20)
                {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                }
                else
                    out += static_cast<char>(c);  // UTF-8 passes through unchanged
        }
    }
    return out + "\"";
}

std::string quote(const std::string &text)
{
    return quote(text.c_str());
}

std::string number(double value)
{
    if (!std::isfinite(value))
        return "null";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    return buf;
}

// 64-bit FNV-1a of the decoded BLOB bytes, as 16 hex digits.
std::string fnv1a64(const void *data, size_t len)
{
    uint64_t hash = 0xcbf29ce484222325ULL;
    const unsigned char *p = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < len; ++i)
    {
        hash ^= p[i];
        hash *= 0x100000001b3ULL;
    }
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
    return buf;
}

std::string hex_head(const void *data, size_t len, size_t most)
{
    std::string out;
    const unsigned char *p = static_cast<const unsigned char *>(data);
    char buf[4];
    for (size_t i = 0; i < len && i < most; ++i)
    {
        std::snprintf(buf, sizeof buf, "%02x", p[i]);
        out += buf;
    }
    return out;
}

// The common head of a property line: "cb", "type", "device", "name", "label", "group", ...
template <typename Vector>
std::string head(const char *cb, const char *type, const Vector *v)
{
    return std::string("{\"cb\":") + quote(cb) + ",\"type\":" + quote(type) +
           ",\"device\":" + quote(v->device) + ",\"name\":" + quote(v->name) +
           ",\"label\":" + quote(v->label) + ",\"group\":" + quote(v->group) +
           ",\"state\":" + quote(pstateStr(v->s)) + ",\"timestamp\":" + quote(v->timestamp);
}

// "perm" and "timeout", which every kind of vector but lights has.
template <typename Vector>
std::string perm_timeout(const Vector *v)
{
    return ",\"perm\":" + quote(permStr(v->p)) + ",\"timeout\":" + number(v->timeout);
}

// The line's end: the members, each with its "name", "label" and what `fields` adds of it.
template <typename Member, typename Fields>
std::string members(const Member *items, int count, Fields fields)
{
    std::string out = ",\"members\":[";
    for (int i = 0; i < count; ++i)
        out += std::string(i ? "," : "") + "{\"name\":" + quote(items[i].name) + ",\"label\":" +
               quote(items[i].label) + fields(items[i]) + "}";
    return out + "]}";
}

std::string dump(const char *cb, const INumberVectorProperty *v)
{
    return head(cb, "Number", v) + perm_timeout(v) + members(v->np, v->nnp, [](const INumber &n) {
        char formatted[MAXINDIFORMAT * 2] = "";
        numberFormat(formatted, n.format, n.value);  // libindi's own display formatting
        return ",\"format\":" + quote(n.format) + ",\"min\":" + number(n.min) + ",\"max\":" +
               number(n.max) + ",\"step\":" + number(n.step) + ",\"value\":" + number(n.value) +
               ",\"formatted\":" + quote(formatted);
    });
}

std::string dump(const char *cb, const ISwitchVectorProperty *v)
{
    return head(cb, "Switch", v) + perm_timeout(v) + ",\"rule\":" + quote(ruleStr(v->r)) +
           members(v->sp, v->nsp, [](const ISwitch &s) {
               return ",\"value\":" + quote(s.s == ISS_ON ? "On" : "Off");
           });
}

std::string dump(const char *cb, const ITextVectorProperty *v)
{
    return head(cb, "Text", v) + perm_timeout(v) + members(v->tp, v->ntp, [](const IText &t) {
        return ",\"value\":" + quote(t.text ? t.text : "");
    });
}

std::string dump(const char *cb, const ILightVectorProperty *v)
{
    return head(cb, "Light", v) + members(v->lp, v->nlp, [](const ILight &l) {
        return ",\"value\":" + quote(pstateStr(l.s));
    });
}

// For a FITS file: the header's length and its BITPIX/NAXISn cards, so a test can check that the
// BLOB's length is the one its own header implies. Empty when the bytes are not FITS.
std::string fits_summary(const void *data, size_t len)
{
    const char *p = static_cast<const char *>(data);
    if (len < 2880 || std::strncmp(p, "SIMPLE  =", 9) != 0)
        return "";
    std::string out = ",\"fits\":{";
    for (size_t at = 0; at + 80 <= len && at < 2880 * 100; at += 80)
    {
        const std::string key(p + at, 8);
        if (key == "END     ")
        {
            const size_t header = (at / 2880 + 1) * 2880;
            return out + "\"header_bytes\":" + std::to_string(header) + "}";
        }
        if (key == "BITPIX  " || key.compare(0, 5, "NAXIS") == 0)
        {
            const std::string value(p + at + 10, 20);
            std::string name = key.substr(0, key.find(' '));
            out += quote(name) + ":" + std::to_string(std::strtol(value.c_str(), nullptr, 10)) + ",";
        }
    }
    return "";  // no END card: not a whole header
}

std::string blob_fields(const IBLOB &b)
{
    const size_t len = b.blob != nullptr && b.bloblen > 0 ? static_cast<size_t>(b.bloblen) : 0;
    return ",\"format\":" + quote(b.format) + ",\"size\":" + std::to_string(b.size) +
           ",\"bloblen\":" + std::to_string(b.bloblen) + ",\"fnv1a64\":" + quote(fnv1a64(b.blob, len)) +
           // The first `size` bytes: what a client that trusts the size attribute reads (KStars).
           ",\"fnv1a64_size\":" +
           quote(fnv1a64(b.blob, b.size > 0 && static_cast<size_t>(b.size) < len ? static_cast<size_t>(b.size) : len)) +
           ",\"head\":" + quote(hex_head(b.blob, len, 16)) + fits_summary(b.blob, len);
}

std::string dump(const char *cb, const IBLOBVectorProperty *v)
{
    return head(cb, "BLOB", v) + perm_timeout(v) + members(v->bp, v->nbp, blob_fields);
}

std::string dump(const char *cb, const INDI::Property &property)
{
    switch (property.getType())
    {
        case INDI_NUMBER: return dump(cb, static_cast<const INumberVectorProperty *>(property.getNumber()));
        case INDI_SWITCH: return dump(cb, static_cast<const ISwitchVectorProperty *>(property.getSwitch()));
        case INDI_TEXT: return dump(cb, static_cast<const ITextVectorProperty *>(property.getText()));
        case INDI_LIGHT: return dump(cb, static_cast<const ILightVectorProperty *>(property.getLight()));
        case INDI_BLOB: return dump(cb, static_cast<const IBLOBVectorProperty *>(property.getBLOB()));
        case INDI_UNKNOWN: break;
    }
    return std::string("{\"cb\":") + quote(cb) + ",\"type\":\"unknown\",\"device\":" +
           quote(property.getDeviceName()) + ",\"name\":" + quote(property.getName()) + "}";
}

class Probe : public INDI::BaseClient
{
    public:
        // Callbacks (libindiclient calls them on its listener thread).
        void serverConnected() override
        {
            emit("{\"cb\":\"serverConnected\"}");
        }
        void serverDisconnected(int exit_code) override
        {
            emit("{\"cb\":\"serverDisconnected\",\"exit_code\":" + std::to_string(exit_code) + "}");
        }
        void newDevice(INDI::BaseDevice device) override
        {
            emit("{\"cb\":\"newDevice\",\"device\":" + quote(device.getDeviceName()) + "}");
        }
        void removeDevice(INDI::BaseDevice device) override
        {
            emit("{\"cb\":\"removeDevice\",\"device\":" + quote(device.getDeviceName()) + "}");
        }
        void newProperty(INDI::Property property) override
        {
            emit(dump("newProperty", property));
        }
        void updateProperty(INDI::Property property) override
        {
            emit(dump("updateProperty", property));
        }
        void removeProperty(INDI::Property property) override
        {
            emit("{\"cb\":\"removeProperty\",\"device\":" + quote(property.getDeviceName()) +
                 ",\"name\":" + quote(property.getName()) + ",\"type\":" + quote(property.getTypeAsString()) + "}");
        }
        void newMessage(INDI::BaseDevice device, int messageID) override
        {
            emit("{\"cb\":\"newMessage\",\"device\":" + quote(device.getDeviceName()) + ",\"id\":" +
                 std::to_string(messageID) + ",\"message\":" + quote(device.messageQueue(messageID)) + "}");
        }
        void newUniversalMessage(std::string message) override
        {
            emit("{\"cb\":\"newUniversalMessage\",\"message\":" + quote(message) + "}");
        }
        void newPingReply(std::string uid) override
        {
            emit("{\"cb\":\"newPingReply\",\"uid\":" + quote(uid) + "}");
        }
        // The per-type callbacks of the 1.x interface (KStars and PHD2 of the 1.9 era use these);
        // 1.9.9 calls them right after updateProperty.
        void newNumber(INumberVectorProperty *v) override
        {
            emit(dump("newNumber", v));
        }
        void newSwitch(ISwitchVectorProperty *v) override
        {
            emit(dump("newSwitch", v));
        }
        void newText(ITextVectorProperty *v) override
        {
            emit(dump("newText", v));
        }
        void newLight(ILightVectorProperty *v) override
        {
            emit(dump("newLight", v));
        }
        void newBLOB(IBLOB *b) override
        {
            const IBLOBVectorProperty *v = b->bvp;
            emit(std::string("{\"cb\":\"newBLOB\",\"device\":") + quote(v ? v->device : nullptr) +
                 ",\"name\":" + quote(v ? v->name : nullptr) + ",\"member\":" + quote(b->name) +
                 ",\"state\":" + quote(v ? pstateStr(v->s) : nullptr) + blob_fields(*b) + "}");
        }

        // Commands.
        std::string command(const std::vector<std::string> &words);

    private:
        INDI::Property find(const std::string &device, const std::string &name, INDI_PROPERTY_TYPE type,
                            std::string &error);
};

bool split_assignment(const std::string &word, std::string &member, std::string &value)
{
    const size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
        return false;
    member = word.substr(0, eq);
    value = word.substr(eq + 1);
    return true;
}

INDI::Property Probe::find(const std::string &device, const std::string &name, INDI_PROPERTY_TYPE type,
                           std::string &error)
{
    INDI::BaseDevice dev = getDevice(device.c_str());
    if (!dev.isValid())
    {
        error = "no device " + device;
        return INDI::Property();
    }
    INDI::Property property = dev.getProperty(name.c_str(), type);
    if (!property.isValid())
        error = "no such property " + device + "." + name;
    return property;
}

std::string Probe::command(const std::vector<std::string> &words)
{
    const std::string &cmd = words[0];
    std::string error, member, value;
    if ((cmd == "number" || cmd == "switch" || cmd == "text") && words.size() >= 4)
    {
        const INDI_PROPERTY_TYPE type = cmd == "number" ? INDI_NUMBER : cmd == "switch" ? INDI_SWITCH : INDI_TEXT;
        INDI::Property property = find(words[1], words[2], type, error);
        if (!property.isValid())
            return error;
        for (size_t i = 3; i < words.size(); ++i)
        {
            if (!split_assignment(words[i], member, value))
                return "expected MEMBER=VALUE, got " + words[i];
            if (type == INDI_NUMBER)
            {
                INumber *n = IUFindNumber(property.getNumber(), member.c_str());
                if (n == nullptr)
                    return "no member " + member;
                char *end = nullptr;
                const double parsed = std::strtod(value.c_str(), &end);
                if (end == value.c_str() || *end != '\0')
                    return "not a number: " + value;
                n->value = parsed;
            }
            else if (type == INDI_SWITCH)
            {
                ISwitchVectorProperty *v = property.getSwitch();
                ISwitch *s = IUFindSwitch(v, member.c_str());
                if (s == nullptr)
                    return "no member " + member;
                if (value != "On" && value != "Off")
                    return "a switch is On or Off, got " + value;
                if (value == "On" && v->r != ISR_NOFMANY)
                    IUResetSwitch(v);
                s->s = value == "On" ? ISS_ON : ISS_OFF;
            }
            else
            {
                IText *t = IUFindText(property.getText(), member.c_str());
                if (t == nullptr)
                    return "no member " + member;
                IUSaveText(t, value.c_str());
            }
        }
        if (type == INDI_NUMBER)
            sendNewNumber(property);
        else if (type == INDI_SWITCH)
            sendNewSwitch(property);
        else
            sendNewText(property);
        return "";
    }
    if (cmd == "blobmode" && (words.size() == 3 || words.size() == 4))
    {
        const std::string &mode = words.back();
        BLOBHandling handling;
        if (mode == "Never")
            handling = B_NEVER;
        else if (mode == "Also")
            handling = B_ALSO;
        else if (mode == "Only")
            handling = B_ONLY;
        else
            return "BLOB mode is Never, Also or Only, got " + mode;
        setBLOBMode(handling, words[1].c_str(), words.size() == 4 ? words[2].c_str() : nullptr);
        return "";
    }
    if (cmd == "directblob" && (words.size() == 2 || words.size() == 3))
    {
        enableDirectBlobAccess(words[1].c_str(), words.size() == 3 ? words[2].c_str() : nullptr);
        return "";
    }
    if (cmd == "ping" && words.size() == 2)
    {
        sendPingRequest(words[1].c_str());
        return "";
    }
    if (cmd == "get" && words.size() == 3)
    {
        INDI::Property property = find(words[1], words[2], INDI_UNKNOWN, error);
        if (!property.isValid())
            return error;
        emit(dump("get", property));
        return "";
    }
    return "unknown command or wrong number of words";
}

// Split a command line into words: spaces separate, double quotes group (\" and \\ inside).
bool split_words(const std::string &line, std::vector<std::string> &words)
{
    std::string word;
    bool in_word = false, quoted = false;
    for (size_t i = 0; i < line.size(); ++i)
    {
        const char c = line[i];
        if (quoted)
        {
            if (c == '\\' && i + 1 < line.size())
                word += line[++i];
            else if (c == '"')
                quoted = false;
            else
                word += c;
        }
        else if (c == '"')
        {
            quoted = in_word = true;
        }
        else if (c == ' ' || c == '\t' || c == '\r')
        {
            if (in_word)
                words.push_back(word);
            word.clear();
            in_word = false;
        }
        else
        {
            word += c;
            in_word = true;
        }
    }
    if (in_word)
        words.push_back(word);
    return !quoted;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 3)
    {
        std::fprintf(stderr, "usage: %s HOST PORT [--watch DEVICE]... [--verbose]\n", argv[0]);
        return 3;
    }
    Probe probe;
    for (int i = 3; i < argc; ++i)
    {
        const std::string arg = argv[i];
        if (arg == "--watch" && i + 1 < argc)
            probe.watchDevice(argv[++i]);
        else if (arg == "--verbose")
            probe.setVerbose(true);
        else
        {
            std::fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 3;
        }
    }
    probe.setServer(argv[1], static_cast<unsigned int>(std::stoul(argv[2])));
    probe.setConnectionTimeout(5, 0);
    if (!probe.connectServer())
    {
        emit("{\"cb\":\"connectFailed\"}");
        return 2;
    }
    std::string line;
    while (std::getline(std::cin, line))
    {
        std::vector<std::string> words;
        if (!split_words(line, words))
        {
            emit("{\"cb\":\"ack\",\"cmd\":null,\"ok\":false,\"error\":\"unbalanced quote\"}");
            continue;
        }
        if (words.empty())
            continue;
        if (words[0] == "quit")
            break;
        const std::string error = probe.command(words);
        emit("{\"cb\":\"ack\",\"cmd\":" + quote(words[0]) + ",\"ok\":" + (error.empty() ? "true" : "false") +
             (error.empty() ? "" : ",\"error\":" + quote(error)) + "}");
    }
    probe.disconnectServer(0);
    emit("{\"cb\":\"bye\"}");
    return 0;
}
