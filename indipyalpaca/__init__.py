"""ASCOM Alpaca both ways, the optional extra ``[alpaca]``.

``wire/`` holds the protocol rules both directions share, ``face/`` serves the server's
devices as Alpaca devices, ``devices/`` turns an Alpaca server's devices into INDI devices.
"""
