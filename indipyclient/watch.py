"""``python -m indipyclient.watch``: the same as ``indipy-watch`` (indipyclient/tools/watch.py)."""

from indipyclient.tools.watch import main

if __name__ == "__main__":
    raise SystemExit(main())
