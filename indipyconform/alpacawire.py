"""``indipy-conform --alpaca``'s HTTP side: one Alpaca request, sent exactly as written.

The checks need what a friendly client hides: mis-cased keys, a body with a key missing, the
status and Content-Type of each reply, the raw bytes of an ImageBytes frame. So this is the
standard library's ``http.client`` (no extra needed for the checker), one connection per
request with a bounded timeout; the caller runs it in a thread when it must not block.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

__all__ = ["AlpacaHttp", "Reply", "split_url"]


@dataclass(frozen=True)
class Reply:
    """One HTTP reply: status, Content-Type, the body, and the body as JSON (None when it is
    not JSON); ``error`` names a failure to get any reply at all."""

    status: int
    content_type: str
    body: bytes
    json: Any
    error: str = ""

    @property
    def is_json(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() == "application/json"

    def value(self, key: str) -> Any:
        """``key`` of a JSON object reply, None when there is none."""
        return self.json.get(key) if isinstance(self.json, dict) else None

    def describe(self) -> str:
        """A short account of the reply for a check's detail."""
        if self.error:
            return self.error
        kind = self.content_type.split(";")[0].strip().lower()
        if kind and not (kind.startswith("text/") or kind.endswith("json")):
            return f"HTTP {self.status} {self.content_type}: {len(self.body)} bytes"
        text = self.body[:160].decode("utf-8", "replace").strip()
        return f"HTTP {self.status} {self.content_type or '(no Content-Type)'}: {text!r}"


def split_url(url: str) -> tuple[str, int]:
    """``http://host:port[/]`` as (host, port); ValueError saying why for anything else."""
    parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{url!r} is not an http://HOST:PORT address")
    if parts.path not in ("", "/"):
        raise ValueError(f"{url!r}: give the server's address only (name devices as "
                         f"TYPE/NUMBER arguments)")
    try:
        port = parts.port or 80
    except ValueError:
        raise ValueError(f"{url!r} has no valid port") from None
    return parts.hostname, port


class AlpacaHttp:
    """Requests to one Alpaca server, each bounded by ``timeout`` seconds."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def request(self, method: str, path: str, query: str = "", form: str | None = None,
                accept: str = "application/json", timeout: float | None = None) -> Reply:
        """Send ``method path?query`` (``form`` as the urlencoded body, verbatim)."""
        connection = http.client.HTTPConnection(self.host, self.port,
                                                timeout=timeout or self.timeout)
        target = f"{path}?{query}" if query else path
        headers = {"Accept": accept}
        body = None
        if form is not None:
            body = form.encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            content_type = response.getheader("Content-Type") or ""
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            return Reply(0, "", b"", None, f"no reply to {method} {path}: "
                                           f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
        parsed: Any = None
        if content_type.split(";")[0].strip().lower() == "application/json":
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
        return Reply(status, content_type, data, parsed)

    def get(self, path: str, query: str = "", **kwargs: Any) -> Reply:
        return self.request("GET", path, query, **kwargs)

    def put(self, path: str, form: str, **kwargs: Any) -> Reply:
        return self.request("PUT", path, form=form, **kwargs)
