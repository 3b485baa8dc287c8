"""``python -m indipyclient.watch``: the same as ``indipy-watch`` (indipyclient/frontends/tools/watch.py)."""

from indipyclient.frontends.tools.watch import main

if __name__ == "__main__":
    raise SystemExit(main())
