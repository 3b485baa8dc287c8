"""Users, roles, sessions and settings in one SQLite file (`indipyweb.db` in the `--dbfolder`,
by default the user's data folder: `default_dbfolder`).

Passwords are hashed with scrypt (the standard library's `hashlib.scrypt`, n=2**14, r=8, p=1)
and a random 16-byte salt per user; they are compared in constant time. Sessions are random
tokens stored hashed (a stolen database gives no live session), each with its own CSRF token.
There is no default password: `ensure_admin` creates an admin with a random password when the
database has none (empty, or holding only the users a guide's ``adduser`` made before the first
start), which the command prints once.

A hash costs tens of milliseconds of CPU, so code on an event loop calls the ``a``-prefixed
methods (`acheck_password`, `aset_user`, `aensure_admin`): they hash in the database's own
thread pool and touch SQLite only on the caller's thread. The pool limits the hashing's
concurrency: `HASH_THREADS` threads (half the cores at most, one on a 2-core machine), so ten
log-ins at once queue there in order (FIFO) and the loop keeps a core; on Linux each of those
threads also lowers its own priority to nice `HASH_NICE`, so on a loaded machine the loop (and
everything else at nice 0) is served first and a log-in waits a little longer, but is not starved
(at nice 19 one log-in on a machine busy with a night's solver took 12 s and more, past a
browser's patience). The plain methods are for scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = ["DB_NAME", "HASH_NICE", "HASH_THREADS", "Role", "Session", "UserDB", "default_dbfolder",
           "hash_password"]

DB_NAME = "indipyweb.db"
SESSION_SECONDS = 7 * 24 * 3600
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
# Half the cores at most (one on a 2-core machine): the event loop keeps a core of its own while
# ten log-ins hash (bench/web_logins.py), and they queue in the pool instead.
HASH_THREADS = max(1, (os.cpu_count() or 2) // 2)
# The hashing threads' own nice level (Linux, where each thread has one): a log-in yields to the
# pages' live updates on a busy machine (bench/web_logins.py --busy) without being starved by
# every other busy process there, as it was at 19 (bench/web_logins.py --busy 6: a log-in's time).
HASH_NICE = 10
_NO_SALT, _NO_HASH = b"\0" * 16, b"\0" * 32  # an unknown name costs a hash all the same


def default_dbfolder() -> Path:
    """Where ``indipyweb.db`` lives when no folder is given: the user's data folder by the
    platform's convention (a database left in whatever folder the command was started from
    ends up in a clone's working tree, or is not found again the next day).

    Linux and the other Unixes: ``$XDG_DATA_HOME/indipyweb`` (an absolute ``XDG_DATA_HOME``;
    ``~/.local/share/indipyweb`` otherwise); macOS: ``~/Library/Application Support/indipyweb``;
    Windows: ``%LOCALAPPDATA%\\indipyweb``.
    """
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA", "")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "indipyweb"


class Role(StrEnum):
    """viewer reads; operator reads and sets; admin also manages users and settings."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def can_set(self) -> bool:
        return self is not Role.VIEWER


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    role: Role
    csrf: str


def hash_password(password: str, salt: bytes) -> bytes:
    """scrypt; releases the GIL while it works, so a thread pool runs it beside the loop."""
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, maxmem=64 * 1024 * 1024, **_SCRYPT)


def _lower_priority() -> None:
    """A hashing thread's start: nice `HASH_NICE` for this thread alone. Only on Linux, where
    a thread has its own nice value; elsewhere setpriority would lower the whole process."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):  # a refusal must not break the pool, nor log-ins
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICE)


def _checked_user(name: str, password: str, role: Role | str) -> tuple[str, Role]:
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise ValueError("a user name is 1 to 64 printable characters")
    if len(password) < 8:
        raise ValueError("a password has at least 8 characters")
    return name, Role(role)


def _role_if(ok: bool, role: str | None) -> Role | None:
    return Role(role) if ok and role is not None else None


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class UserDB:
    """The database; one connection, used from one thread (the event loop's, in the app)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_dbfolder()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = self.folder / DB_NAME
        self.path.touch(mode=0o600)  # before SQLite makes it, and its -wal and -shm alike
        self.path.chmod(0o600)
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        # Each log-in commits a session on the event loop: in WAL mode with synchronous=NORMAL
        # a commit writes the log without waiting for the disk (an fsync under load stalled
        # the loop 40-110 ms, bench/web_logins.py); a power cut may lose the last commits,
        # never the file.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript("""
            CREATE TABLE IF NOT EXISTS users (
                name TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL,
                role TEXT NOT NULL, created REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS sessions (
                key TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL,
                expires REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)
        self._db.commit()
        self._hashers = ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="indipyweb-hash",
                                           initializer=_lower_priority)

    def close(self) -> None:
        self._hashers.shutdown(wait=False)
        self._db.close()

    # -- users -----------------------------------------------------------------------------

    def set_user(self, name: str, password: str, role: Role | str) -> None:
        """Add a user or replace their password and role."""
        name, role = _checked_user(name, password, role)
        salt = secrets.token_bytes(16)
        self._store_user(name, salt, hash_password(password, salt), role)

    async def aset_user(self, name: str, password: str, role: Role | str) -> None:
        """`set_user`, hashing off the event loop."""
        name, role = _checked_user(name, password, role)
        salt = secrets.token_bytes(16)
        self._store_user(name, salt, await self._hash_off_loop(password, salt), role)

    def _store_user(self, name: str, salt: bytes, hashed: bytes, role: Role) -> None:
        self._db.execute(
            "INSERT INTO users (name, salt, hash, role, created) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET salt=excluded.salt, hash=excluded.hash, "
            "role=excluded.role",
            (name, salt, hashed, str(role), time.time()))
        self._db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        self._db.commit()

    async def _hash_off_loop(self, password: str, salt: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._hashers, hash_password, password, salt)

    def delete_user(self, name: str) -> None:
        self._db.execute("DELETE FROM users WHERE name = ?", (name,))
        self._db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        self._db.commit()

    def users(self) -> list[tuple[str, Role]]:
        rows = self._db.execute("SELECT name, role FROM users ORDER BY name").fetchall()
        return [(name, Role(role)) for name, role in rows]

    def check_password(self, name: str, password: str) -> Role | None:
        """The user's role when the password is right, else None (same work either way)."""
        salt, stored, role = self._password_row(name)
        return _role_if(hmac.compare_digest(hash_password(password, salt), stored), role)

    async def acheck_password(self, name: str, password: str) -> Role | None:
        """`check_password`, hashing off the event loop."""
        salt, stored, role = self._password_row(name)
        hashed = await self._hash_off_loop(password, salt)
        return _role_if(hmac.compare_digest(hashed, stored), role)

    def _password_row(self, name: str) -> tuple[bytes, bytes, str | None]:
        row = self._db.execute("SELECT salt, hash, role FROM users WHERE name = ?",
                               (name,)).fetchone()
        return (row[0], row[1], row[2]) if row else (_NO_SALT, _NO_HASH, None)

    def admins(self) -> list[str]:
        """The names of the users who may manage users and servers."""
        return [name for name, role in self.users() if role is Role.ADMIN]

    def _needs_admin(self) -> bool:
        """No admin, and the name ``admin`` free: the guide's first steps add an operator
        before the first start, and an empty-database rule then made no admin at all, while
        only an admin sees the Users page and the servers found on the network."""
        return not self.admins() and not self._db.execute(
            "SELECT 1 FROM users WHERE name = 'admin'").fetchone()

    def ensure_admin(self) -> str | None:
        """With no admin at all, create ``admin`` with a random password and return it (to be
        printed once); otherwise None. A user already named ``admin`` with another role is
        left as it is (the command then says how to make an admin)."""
        if not self._needs_admin():
            return None
        password = secrets.token_urlsafe(12)
        self.set_user("admin", password, Role.ADMIN)
        return password

    async def aensure_admin(self) -> str | None:
        """`ensure_admin`, hashing off the event loop."""
        if not self._needs_admin():
            return None
        password = secrets.token_urlsafe(12)
        await self.aset_user("admin", password, Role.ADMIN)
        return password

    # -- sessions --------------------------------------------------------------------------

    def new_session(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        self._db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
        self._db.execute("INSERT INTO sessions (key, user, csrf, expires) VALUES (?, ?, ?, ?)",
                         (_token_key(token), user, secrets.token_urlsafe(32),
                          now + SESSION_SECONDS))
        self._db.commit()
        return token

    def session(self, token: str | None) -> Session | None:
        if not token:
            return None
        row = self._db.execute(
            "SELECT s.user, u.role, s.csrf FROM sessions s JOIN users u ON u.name = s.user "
            "WHERE s.key = ? AND s.expires > ?", (_token_key(token), time.time())).fetchone()
        return Session(row[0], Role(row[1]), row[2]) if row else None

    def end_session(self, token: str | None) -> None:
        if token:
            self._db.execute("DELETE FROM sessions WHERE key = ?", (_token_key(token),))
            self._db.commit()

    # -- settings --------------------------------------------------------------------------

    def setting(self, key: str, default: str = "") -> str:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))
        self._db.commit()
