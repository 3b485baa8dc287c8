"""Another INDI server's devices served here, in the style of indipyserver 0.0.6's add_remote
snippet, with an LED driver of our own beside them.

    python remote.py PORT REMOTEPORT
"""

import asyncio
import sys

import led

from indipyserver import IPyServer


async def main(server):
    task = asyncio.create_task(server.asyncrun())
    await asyncio.sleep(0.5)
    await server.send_message("remote.py is serving")
    await task


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    port, remoteport = int(args[0]), int(args[1])
    server = IPyServer(led.make_driver("remoteled", 18), host="localhost", port=port)
    server.add_remote(host="localhost", port=remoteport, blob_enable=False, debug_enable=True)
    print(f"Running {__file__}: {len(server.drivers)} driver, {len(server.remotes)} remote")
    asyncio.run(main(server))
