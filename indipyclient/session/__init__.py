"""The client's session (asyncio): one connection to a server kept up and read into the model.

The transports (unixaddress.py, unixtransport.py), the reader that feeds the model
(serverstream.py), the connection with its retry loop (connection.py), the one set-and-wait
(setwait.py) and coalescer of change notices (coalesce.py), and the library's two APIs on them:
``connect()`` (connect.py) and indipyclient 0.9.4's ``IPyClient`` and ``QueClient``
(ipyclient.py, queclient.py). It may import `indipycore`, the model and itself.
"""
