"""``indiredis.indiwsgi.make_wsgi_app`` served by waitress, as indiredis 0.7's scripts do."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import redis
import waitress
from peers import free_port
from waiting import wait_for

from indiredis import redis_server
from indiredis.indiwsgi import make_wsgi_app

TEL = "Telescope Simulator"


def test_make_wsgi_app_serves_the_pages_and_the_store_under_waitress(
        indiserver_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """With inditoredis keeping the telescope in redis (python -m indiredis --noweb), the WSGI
    app under waitress serves the login page and its source holds the telescope; its pages
    name no INDI server it does not know."""
    import subprocess
    import sys

    server = indiserver_factory("indi_simulator_telescope")
    bridge = subprocess.Popen(
        [sys.executable, "-m", "indiredis", str(tmp_path / "blobs"), "--noweb", "--iport",
         str(server.port), "--ihost", "127.0.0.1", "--rport", str(redis_port), "--rhost",
         "127.0.0.1"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=redis_port, decode_responses=True)
    try:
        wait_for(lambda: r.exists(f"indi_attributes:CONNECTION:{TEL}"), 30,
                 "the bridge to store the telescope's CONNECTION", interval=0.1)
        app = make_wsgi_app(redis_server("127.0.0.1", redis_port), tmp_path / "blobs",
                            dbfolder=tmp_path)
        port = free_port()
        web = waitress.create_server(app, host="127.0.0.1", port=port, threads=4)
        thread = threading.Thread(target=web.run, daemon=True)
        thread.start()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
                assert page.status == 200 and b"password" in page.read()
            source = app.app.state.web.source
            # (the store is read into the model in the app's own thread: a look from this one
            # may fall between the devices and the connected flag)
            wait_for(lambda: source.connected and TEL in source.snapshot()["devices"], 30,
                     "the web app's source to have read the telescope", interval=0.1)
            assert "CONNECTION" in source.snapshot()["devices"][TEL]["vectors"]
            json.dumps(source.snapshot())
            # it knows no INDI server of its own: the pages say where their state comes from
            # (they said "INDI server redis:0")
            said = app.app.state.web.renderer.page("_conn.html")
            assert "INDI server (through redis) connected" in said and ":0" not in said
        finally:
            # closed from its own loop's thread: closed from here, its sockets went away under
            # the select() it was in (EBADF in that thread, once in a full run)
            # (A loop that has ended already -- the map emptied as the app closed its
            # connections -- closed its trigger too: writing to it was EBADF, once in a run.)
            try:
                web.trigger.pull_trigger(web.close)
            except OSError:
                web.close()
            thread.join(10)
            assert not thread.is_alive(), "waitress's loop did not end"
            web.task_dispatcher.shutdown()
            app.close()
    finally:
        r.close()
        bridge.terminate()
        bridge.wait(10)
