"""indipydiscovery: finding INDI, INDIGO and ASCOM Alpaca servers without typing an address.

DNS-SD (``_indi._tcp``, ``_indigo._tcp``; the optional extra ``[discovery]``, python-zeroconf,
imported only by the modules that browse or announce) and Alpaca's own UDP probe
(``alpacaprobe``, standard library only), on the interfaces chosen once for both
(``interfaces``). What is found is a `Service` (``service``); ``browse`` lists, ``resolve``
finds one by name. Above both the driver and the client side: the server announces through
it, the client library re-exports its listing.
"""
