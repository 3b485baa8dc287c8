"""The client library's front ends, on a connected session: the role clients (roles.py), the
command-line tools (tools/) and the optional extras' check (extras.py). The terminal, the web
client, the bridges and the conformance checker (``indipyconform``, which reads Alpaca too and
so stands above this package and ``indipyalpaca.wire``) are front ends as packages of their
own; none keeps a model, a coalescer or a set-and-wait of its own.
"""
