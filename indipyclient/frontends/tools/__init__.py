"""The command-line tools: ``indipy-getprop``, ``indipy-setprop``, ``indipy-eval``, ``indipy-watch``.

Compatible with indilib's ``indi_getprop``, ``indi_setprop`` and ``indi_eval`` (options,
``dev.prop.elem`` specs, output lines and exit statuses 0/1/2), on the protocol core
``indipycore.protocol``. Each tool is a module with ``main(argv) -> int``.
"""
