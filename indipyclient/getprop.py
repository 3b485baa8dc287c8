"""``python -m indipyclient.getprop``: the same as ``indipy-getprop`` (indipyclient/tools/getprop.py)."""

from indipyclient.tools.getprop import main

if __name__ == "__main__":
    raise SystemExit(main())
