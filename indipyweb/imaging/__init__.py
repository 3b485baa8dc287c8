"""The image viewer's server side: frames decoded from the BLOB folder's files (`decoding`),
stretched and measured (`stretch`), and kept, with their downsampled levels, in a bounded cache
worked by a bounded thread pool (`store`), never on the event loop."""
