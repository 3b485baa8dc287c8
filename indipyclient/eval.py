"""``python -m indipyclient.eval``: the same as ``indipy-eval`` (indipyclient/tools/evalexpr.py)."""

from indipyclient.tools.evalexpr import main

if __name__ == "__main__":
    raise SystemExit(main())
