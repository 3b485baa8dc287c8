"""The client library's front ends, on a connected session: the role clients (roles.py), the
conformance checker (conform/), the command-line tools (tools/) and the optional extras' check
(extras.py). The terminal, the web client and the bridges are front ends too, as packages of
their own; none keeps a model, a coalescer or a set-and-wait of its own.
"""
