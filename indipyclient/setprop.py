"""``python -m indipyclient.setprop``: the same as ``indipy-setprop`` (indipyclient/tools/setprop.py)."""

from indipyclient.tools.setprop import main

if __name__ == "__main__":
    raise SystemExit(main())
