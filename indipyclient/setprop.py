"""``python -m indipyclient.setprop``: the same as ``indipy-setprop`` (indipyclient/frontends/tools/setprop.py)."""

from indipyclient.frontends.tools.setprop import main

if __name__ == "__main__":
    raise SystemExit(main())
