"""The process name indiwebmanager looks for: ``indiserver`` when run under that name.

Protects (issue: a drop-in backend for indiwebmanager, item 1): the name is taken from the
script the command was run as (a symlink ``indiserver``, or ``python3 .../indiserver``), and
setting it changes what the kernel reports for the process (``/proc/PID/comm``, which ``ps``,
``pkill`` and psutil read). indiwebmanager's own detection is run in
``tests/interop/test_indiweb.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from indipyserver.procname import INDISERVER
from indipyserver.procname import invoked_as

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl")


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["/home/pi/bin/indiserver", "-p", "7624"], INDISERVER),
        (["indiserver"], INDISERVER),
        (["/venv/bin/indipyserver", "-p", "7624"], ""),
        (["/repo/indipyserver/__main__.py"], ""),
        (["/opt/indiserver.d/indipyserver"], ""),
        ([], ""),
    ],
)
def test_invoked_as_reads_the_name_the_script_was_run_under(argv: list[str], name: str) -> None:
    """Only the basename counts: a folder called indiserver names nothing."""
    assert invoked_as(argv) == name


def test_set_process_name_is_what_the_kernel_reports() -> None:
    """A Python process named by set_process_name shows that name in /proc/PID/comm, cut to
    the kernel's 15 bytes, and the main thread's name is the process's."""
    code = textwrap.dedent(
        """
        import os, sys
        from indipyserver.procname import set_process_name
        before = open("/proc/self/comm").read().strip()
        ok = set_process_name(sys.argv[1])
        print(before, ok, open(f"/proc/{os.getpid()}/comm").read().strip())
        """
    )
    for wanted, shown in ((INDISERVER, INDISERVER), ("a-very-long-server-name", "a-very-long-ser")):
        done = subprocess.run([sys.executable, "-c", code, wanted], capture_output=True,
                              text=True, check=True, timeout=30)
        before, ok, after = done.stdout.split()
        assert before.startswith("python")
        assert (ok, after) == ("True", shown)
