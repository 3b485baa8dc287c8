"""What every script here shares: the server from the command line, and waiting with a limit.

The scripts are pyindi-client programs (ours): they run unchanged under pyindi-client's SWIG
module and under this project's pure-Python PyIndi, and print only what both should agree on.
"""

import sys
import time

TIMEOUT = 30.0


def server() -> tuple[str, int]:
    """(host, port) from the command line: ``script.py HOST PORT``."""
    return sys.argv[1], int(sys.argv[2])


def wait(check, what, timeout=TIMEOUT):
    """Poll ``check()`` until it returns something true (returned); exit 1 naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            print(f"TIMEOUT waiting for {what}", flush=True)
            sys.exit(1)
        time.sleep(0.05)
