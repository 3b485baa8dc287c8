"""The `indipyweb` command as a user runs it: `adduser` from a script, the first start's admin
password printed once, and `--demo` (our server with the thermostat in the same process)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from peers import free_port
from waiting import wait_for

from indipyweb.cli import admin_lines
from indipyweb.users import UserDB


def _env() -> dict[str, str]:
    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "PYTHONPATH": str(root)}


def test_adduser_reads_the_password_from_standard_input(tmp_path: Path) -> None:
    """`indipyweb adduser NAME --role ROLE` without a terminal reads one line: the user can
    then log in with it; a short password is refused with exit 1."""
    done = subprocess.run([sys.executable, "-m", "indipyweb", "adduser", "alice", "--role",
                           "operator", "--dbfolder", str(tmp_path)], input="alice-password\n",
                          text=True, capture_output=True, env=_env(), timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    db = UserDB(tmp_path)
    try:
        assert str(db.check_password("alice", "alice-password")) == "operator"
        assert db.check_password("alice", "wrong-password") is None
    finally:
        db.close()
    assert "reading the password for alice from standard input" in done.stderr, done.stderr
    short = subprocess.run([sys.executable, "-m", "indipyweb", "adduser", "bob", "--role",
                            "viewer", "--dbfolder", str(tmp_path)], input="short\n", text=True,
                           capture_output=True, env=_env(), timeout=60, check=False)
    assert short.returncode == 1 and "8 characters" in short.stderr


def test_adduser_with_nothing_on_standard_input_says_where_it_reads(tmp_path: Path) -> None:
    """Run from a script with no terminal and nothing on standard input (``< /dev/null``), it
    says the password is read from standard input and that none came, exit 1, no user."""
    done = subprocess.run([sys.executable, "-m", "indipyweb", "adduser", "alice", "--role",
                           "operator", "--dbfolder", str(tmp_path)], stdin=subprocess.DEVNULL,
                          text=True, capture_output=True, env=_env(), timeout=60, check=False)
    assert done.returncode == 1, done
    assert "reading the password for alice from standard input" in done.stderr, done.stderr
    assert "standard input ended before a password" in done.stderr, done.stderr
    db = UserDB(tmp_path)
    try:
        assert db.users() == []
    finally:
        db.close()


def test_the_guides_web_steps_give_a_first_admin(tmp_path: Path) -> None:
    """The unattended-night guide's web steps: ``adduser alice --role operator`` (from a
    script), then the first start. That start creates ``admin`` and prints its password once
    (it had made no admin: the database was not empty), and never speaks of resetting an
    admin's password that does not exist; the admin logs in with it and sees the servers
    found on the network (admins only). The next start names the admin to reset."""
    added = subprocess.run([sys.executable, "-m", "indipyweb", "adduser", "alice", "--role",
                            "operator", "--dbfolder", str(tmp_path)], input="alice-password\n",
                           text=True, capture_output=True, env=_env(), timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    port = free_port()
    command = ["--port", str(port), "--indiport", str(free_port()), "--dbfolder",
               str(tmp_path), "--no-announce"]
    first = _start(command, tmp_path, _env())
    try:
        lines = _lines_until(first, "indipyweb: open http://")
        made = [re.search(r"created the user 'admin' with the password (\S+)", line)
                for line in lines]
        found = [m.group(1) for m in made if m]
        assert len(found) == 1, lines
        assert not any("reset" in line and "password" in line and "shown only" not in line
                       for line in lines), lines
        cookie = _login(port, found[0])
        request = urllib.request.Request(f"http://127.0.0.1:{port}/discovered",
                                         headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200
    finally:
        first.terminate()
        first.communicate(timeout=20)
    again = _start(command, tmp_path, _env())
    try:
        lines = _lines_until(again, "indipyweb: open http://")
    finally:
        again.terminate()
        again.communicate(timeout=20)
    assert not any("created the user" in line for line in lines), lines
    assert ("indipyweb: to reset the password of admin (admin): indipyweb adduser admin "
            f"--role admin --dbfolder {tmp_path.resolve()}") in lines, lines


def test_a_database_with_no_admin_and_the_name_taken_says_how_to_make_one(
        tmp_path: Path) -> None:
    """A user named ``admin`` who is only a viewer keeps the name: no admin is made, and the
    start says there is none and how to create one (not how to reset a password)."""
    db = UserDB(tmp_path)
    try:
        db.set_user("admin", "viewer-password", "viewer")
        assert db.ensure_admin() is None
        assert db.admins() == []
    finally:
        db.close()
    lines = admin_lines(None, [], str(tmp_path))
    assert lines == ["there is no admin (only an admin manages users and sees the servers "
                     "found on the network): create one with: indipyweb adduser NAME --role "
                     f"admin --dbfolder {tmp_path}"]


def _login(port: int, password: str) -> str:
    body = json.dumps({"username": "admin", "password": password}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/login", body,
                                     {"Content-Type": "application/json"})
    # The password's hash runs at nice HASH_NICE by design (indipyweb/users.py): on a loaded
    # machine it waits for every process at nice 0 (a full run's twelve workers: one log-in
    # took more than 5 s), so the bound is the one for a stuck server, not a quiet machine's.
    with urllib.request.urlopen(request, timeout=60) as answer:
        cookie = answer.headers["set-cookie"].split(";")[0]
    return str(cookie)


def test_demo_prints_the_admin_password_once_and_serves_the_thermostat(tmp_path: Path) -> None:
    """`indipyweb --demo` on an empty database prints a random admin password once; with it
    the API shows the demo thermostat, live from the in-process server. It says where its
    database is and how to reset the admin password. The second start prints no password."""
    port = free_port()
    command = [sys.executable, "-m", "indipyweb", "--demo", "--port", str(port),
               "--dbfolder", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=_env())
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.strip() == f"indipyweb: users and settings are in {tmp_path.resolve() / 'indipyweb.db'}"
        line = process.stdout.readline()
        found = re.search(r"the password (\S+)", line)
        assert found, line
        password = found.group(1)
        once = process.stdout.readline()
        assert "shown only this once" in once and once.strip().endswith(
            f"indipyweb adduser admin --role admin --dbfolder {tmp_path.resolve()})"), once

        def thermostat_served() -> dict[str, Any] | None:
            try:
                cookie = _login(port, password)
                request = urllib.request.Request(f"http://127.0.0.1:{port}/api",
                                                 headers={"Cookie": cookie})
                with urllib.request.urlopen(request, timeout=5) as answer:
                    snapshot: dict[str, Any] = json.load(answer)
            except (urllib.error.URLError, OSError):
                return None
            return snapshot if "Thermostat" in snapshot["devices"] else None

        snapshot = wait_for(thermostat_served, 30, "the demo to come up", interval=0.3)
        vectors = snapshot["devices"]["Thermostat"]["vectors"]
        assert {"TEMPERATURE", "TARGET", "HEATER_MODE", "HEATER", "SITE", "LOG"} <= set(vectors)
    finally:
        process.terminate()
        process.communicate(timeout=20)
    again = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=_env())
    try:
        assert again.stdout is not None
        before = []
        for line in again.stdout:
            if "demo INDI server" in line:
                break
            before.append(line)
        assert not any("created the user" in line for line in before), before
        assert ("indipyweb: to reset the password of admin (admin): indipyweb adduser admin "
                f"--role admin --dbfolder {tmp_path.resolve()}\n") in before, before
    finally:
        again.terminate()
        again.communicate(timeout=20)


def test_certfile_serves_https_with_secure_cookies(tmp_path: Path) -> None:
    """--certfile/--keyfile (a self-signed pair from Debian's openssl) serve HTTPS, and the
    cookies the app sets are Secure."""
    import shutil
    import ssl

    openssl = shutil.which("openssl")
    assert openssl, "openssl is missing (Debian package openssl)"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   capture_output=True, timeout=60, check=True)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "indipyweb", "--port", str(port),
                                "--indiport", str(free_port()), "--dbfolder", str(tmp_path),
                                "--certfile", str(cert), "--keyfile", str(key)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    try:

        def login_cookie() -> str | None:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/login", timeout=5,
                                            context=context) as answer:
                    return str(answer.headers["set-cookie"])
            except (urllib.error.URLError, OSError):
                return None

        cookie = wait_for(login_cookie, 30, "an HTTPS answer", interval=0.3)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    finally:
        process.terminate()
        process.wait(20)


def _start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "indipyweb", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _lines_until(process: subprocess.Popen[str], wanted: str) -> list[str]:
    """The command's lines up to the first holding `wanted` (its last)."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if wanted in line:
            return lines
    raise AssertionError(f"the command ended without {wanted!r}: {lines}")


def test_the_database_is_kept_in_the_users_data_folder(tmp_path: Path, tmp_home: Path
                                                       ) -> None:
    """`indipyweb --demo` and `indipyweb adduser` without --dbfolder keep indipyweb.db in the
    user's data folder by the platform's convention (here Linux: $XDG_DATA_HOME/indipyweb, else
    ~/.local/share/indipyweb), say where, and leave the folder they were started from (a
    clone's working tree) as it was."""
    home, xdg, cwd = tmp_home, tmp_path / "xdg", tmp_path / "clone"
    cwd.mkdir()
    env = {k: v for k, v in _env().items() if k != "XDG_DATA_HOME"}
    for environment, folder in (({}, home / ".local" / "share" / "indipyweb"),
                                ({"XDG_DATA_HOME": str(xdg)}, xdg / "indipyweb")):
        process = _start(["--demo", "--port", "0"], cwd, {**env, **environment})
        try:
            lines = _lines_until(process, "indipyweb: open http://")
        finally:
            process.terminate()
            process.communicate(timeout=20)
        assert f"indipyweb: users and settings are in {folder / 'indipyweb.db'}" in lines, lines
        assert (folder / "indipyweb.db").is_file()
        assert list(cwd.iterdir()) == []
    added = subprocess.run([sys.executable, "-m", "indipyweb", "adduser", "alice", "--role",
                            "viewer"], input="alice-password\n", text=True, cwd=cwd,
                           capture_output=True, env=env, timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    assert str(home / ".local" / "share" / "indipyweb" / "indipyweb.db") in added.stdout
    assert list(cwd.iterdir()) == []
    db = UserDB(home / ".local" / "share" / "indipyweb")
    try:
        assert str(db.check_password("alice", "alice-password")) == "viewer"
    finally:
        db.close()


def test_the_address_is_printed_once_the_port_accepts(tmp_path: Path) -> None:
    """"open http://HOST:PORT/" comes once the web server serves: after uvicorn's "Application
    startup complete", a page asked for the moment the line is read is answered, and the port
    is the one really bound (asked for with --port 0)."""
    import socket

    process = _start(["--port", "0", "--indiport", str(free_port()), "--dbfolder",
                      str(tmp_path)], tmp_path, _env())
    try:
        lines = _lines_until(process, "indipyweb: open http://")
        line = lines[-1]
        assert any("Application startup complete" in earlier for earlier in lines[:-1]), lines
        found = re.fullmatch(r"indipyweb: open http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=5):
            pass
        with urllib.request.urlopen(f"http://127.0.0.1:{found.group(1)}/login",
                                    timeout=5) as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        process.communicate(timeout=20)


def test_a_port_another_program_holds_is_said_at_once_with_exit_status_1(
        tmp_path: Path) -> None:
    """On a port another program listens on, indipyweb says so in one line and exits 1: no
    "open http://" line (it would send the user to the other program), no demo server
    started, no database made."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "indipyweb", "--demo", "--port",
                               str(port), "--dbfolder", str(tmp_path / "db")],
                              capture_output=True, text=True, env=_env(), timeout=60,
                              check=False)
    assert done.returncode == 1, done
    assert done.stderr.strip() == (f"indipyweb: cannot listen on 127.0.0.1:{port}: port {port}"
                                   " is in use by another program (choose another with --port)")
    assert "open http" not in done.stdout and "demo INDI server" not in done.stdout, done.stdout
    assert not (tmp_path / "db").exists()
