"""indipyweb: a web client for any INDI server, live in the browser, with users and roles."""
