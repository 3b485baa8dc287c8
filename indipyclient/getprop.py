"""``python -m indipyclient.getprop``: the same as ``indipy-getprop`` (indipyclient/frontends/tools/getprop.py)."""

from indipyclient.frontends.tools.getprop import main

if __name__ == "__main__":
    raise SystemExit(main())
