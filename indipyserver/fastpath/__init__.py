"""The round trip's shortcut: a new or set vector alone in a read, routed from its start tag.

The shortcut itself (`shortcut`), what it reads off a read (`readclassifier`) and whether a
peer runs on this machine (`localpeer`). It may import `loop` and `routing`; the server hands
it to the connections it applies to.
"""
