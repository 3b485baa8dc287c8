"""The server's side of drivers: in-process, executable and remote INDI servers.

The connection base and the in-process driver (`connection`), executable drivers on pipes
(`executable`, `pipereader`), remote servers (`remote`), framed reads and flow-controlled
writes to them (`inbound`, `outbound`), restart delays (`backoff`) and the drivers' message
log (`messagelog`). It may import every folder of the server but the top level.
"""
