"""alpaca-simulators started by fork (tests/alpaca/alpacapeers.py), run by the simulators' own
interpreter (``.venv-alpaca-sim``): one process a pytest worker imports the simulators'
libraries once (FastAPI, uvicorn, astropy, cabaret, numpy: ~1 s of the ~1.4 s of CPU a start
costs) and forks a child for each simulator the tests start.

Each child is what ``alpaca-simulators ARGS`` run by ``subprocess.Popen`` was: a session of
its own (its pid its process group), the working folder, environment and log it was given,
stdin from /dev/null, and alpaca-simulators' own modules imported afresh in it (they read
their configuration at import), so no simulator's state is another's. This process reaps
each child as it ends and writes its exit status (Popen's returncode: the negative signal
number when killed) to the file the request named.

Requests on stdin, one JSON object a line: ``{"args": [...], "cwd": ..., "env": {...},
"log": ..., "exit": ...}``; each is answered on stdout with the child's pid. The first line
written is ``ready``. Ends when stdin closes.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import traceback
from types import FrameType

#: Imported once here, before any fork: the libraries, never alpaca_simulators itself.
LIBRARIES = ("numpy", "yaml", "jinja2", "pydantic", "pydantic.v1", "fastapi",
             "fastapi.templating", "fastapi.middleware.cors", "uvicorn", "uvicorn.config",
             "uvicorn.server", "uvicorn.lifespan.on", "uvicorn.loops.auto", "uvicorn.loops.uvloop",
             "uvicorn.protocols.http.h11_impl", "uvicorn.protocols.http.httptools_impl",
             "uvicorn.protocols.websockets.auto", "astropy.coordinates", "astropy.io.fits",
             "cabaret", "cabaret.camera")

_exit_files: dict[int, str] = {}
_early: dict[int, int] = {}  # children reaped before their exit file was known


def _returncode(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _write_exit(path: str, code: int) -> None:
    with open(path + ".part", "w") as file:
        file.write(str(code))
    os.replace(path + ".part", path)


def _reap(signum: int = 0, frame: FrameType | None = None) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        path = _exit_files.pop(pid, None)
        if path is None:
            _early[pid] = _returncode(status)
        else:
            _write_exit(path, _returncode(status))


def _child(request: dict[str, object]) -> None:
    """In the forked child: become ``alpaca-simulators ARGS``; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        os.chdir(str(request["cwd"]))
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(str(request["log"]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        args = request["args"]
        assert isinstance(args, list)
        sys.argv = ["alpaca-simulators", *map(str, args)]
        from alpaca_simulators.run_simulator import main
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception:  # noqa: BLE001 - its traceback to its log, then it exits 1
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    for name in LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # another version of the simulators: its child imports what it needs
    signal.signal(signal.SIGCHLD, _reap)
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        path = str(request["exit"])
        _exit_files[pid] = path  # then: reaped before it was known (SIGCHLD came first)?
        early = _early.pop(pid, None)
        if early is not None:
            _exit_files.pop(pid, None)
            _write_exit(path, early)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
