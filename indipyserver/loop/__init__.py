"""The server's event loop and its flow control.

The epoll loop that reads client sockets and drivers' stdout itself (`eventloop`), write
batching per loop and driver-read throttling per server (`flowcontrol`), and how much a reader
asks for at once (`readsizes`). Imports nothing else of the server.
"""
