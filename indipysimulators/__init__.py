"""Simulated instruments, installed as executable INDI drivers named as indilib names its own.

Each module is one simulator: its hardware part (what a real driver would write against its
device), ``make_driver()`` composing it with a role of `indipydriver.standard`, and ``main()``,
the console script:

- ccd.py: ``indipy_simulator_ccd``, a camera ("Python CCD Simulator");
- telescope.py: ``indipy_simulator_telescope``, an equatorial mount ("Python Mount");
- focus.py: ``indipy_simulator_focus``, a focuser and a filter wheel ("Python Focuser",
  "Python Filter Wheel");
- weather.py: ``indipy_simulator_weather``, a weather station ("Python Weather").

Each device's DRIVER_INFO.DRIVER_EXEC is its executable's name, so ``indipy-driverxml`` writes
an entry indiwebmanager and Ekos start it by. Run from a terminal or with ``--port``/``--host``
a simulator serves itself; with a pipe on its standard input (under an INDI server), or with
``--stdio``, it speaks INDI on stdin/stdout (`indipyserver.standalone`, which is why this
package sits above `indipyserver` in docs/architecture.md's layers); `serving.simulator_main`
is every simulator's ``main``. ``examples/ccd_simulator.py`` and its neighbours run them.
"""
