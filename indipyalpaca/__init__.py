"""indipyalpaca: ASCOM Alpaca both ways for the INDI toolkit.

``wire`` holds the protocol rules both directions share (pure, standard library only);
``face`` serves the INDI devices of a server as Alpaca devices (an INDI client of that
server, the optional extra ``[alpaca]``); ``devices`` brings Alpaca devices into a server as
INDI devices. This package file imports none of them, so importing one never drags in another.
"""
