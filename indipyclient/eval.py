"""``python -m indipyclient.eval``: the same as ``indipy-eval`` (indipyclient/frontends/tools/evalexpr.py)."""

from indipyclient.frontends.tools.evalexpr import main

if __name__ == "__main__":
    raise SystemExit(main())
