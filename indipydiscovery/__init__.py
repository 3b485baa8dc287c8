"""Finding servers without typing an address: DNS-SD announce and browse (the optional extra
``[discovery]``, python-zeroconf, imported lazily by the modules that need it) and the Alpaca UDP
discovery probe.

Above both sides: the server and the web client announce through it, the client library lists
through it, and it imports neither. Without the extra the package still imports: the modules
that need zeroconf say what to install when they are used (`interfaces` and `txt` are standard
library only).
"""
