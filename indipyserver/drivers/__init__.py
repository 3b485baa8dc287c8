"""The server's side of drivers: in-process, executable and remote INDI servers.

The connection base (`driverconnection`), in-process drivers and remotes (`inprocess`),
executable drivers on pipes and sockets
(`executable`, `pipereader`, and `fdchannel`: which stdout, and a script's side channel for its
BLOBs' memfds; `stdio`: the pipes and socket made for them; `stderrlog`: their stderr logged;
`programs`: their programs found and checked before they start), remote servers (`remote`),
framed reads and flow-controlled writes to them (`inbound`, `outbound`) and the drivers'
message log (`messagelog`); restart and
reconnect delays follow the project's one policy, `indipycore.retrypolicy`. It may import every folder of the server but the top level.
"""
