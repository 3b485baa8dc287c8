"""The suite's small HTTP servers' one handler: a reply written whole, no log lines, and a
request passed on to the server behind a relay."""

from __future__ import annotations

import http.server
import urllib.error
import urllib.request


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that logs nothing (the suite's output stays the tests')."""

    def answer(self, status: int, data: bytes, kind: str) -> None:
        """`data` as the whole reply, with its status and Content-Type `kind`."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (its timeout) before the answer

    def passed_on(self, target: str, body: bytes | None) -> tuple[int, bytes]:
        """This request (its method, path, `body` and Content-Type) sent to the server at
        `target` (``http://host:port``): that server's status and body, HTTP errors included;
        OSError when it cannot be reached."""
        request = urllib.request.Request(
            target + self.path, data=body, method=self.command,
            headers={"Content-Type": self.headers.get("Content-Type",
                                                      "application/x-www-form-urlencoded")})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def log_message(self, format: str, *args: object) -> None:
        pass
