"""Agents: INDI devices that drive other devices, run inside an INDI server, no client needed.

An agent is a driver (its face: the properties a client sees and sets) and, inside, a client
of the server it sits in (it drives the camera, wheel, focuser and mount through their standard
properties, as indilib's and INDIGO's agents do). So this package stands above both sides of
the house: it imports `indipydriver` for its face, `indipyclient` for its hands and
`indipyserver.standalone` to run as an executable driver.

- ``plan/``: what a night is (targets, batches, dither, focus, flip, the end) as Python objects,
  read from TOML with the standard library; pure.
- ``journal/``: the crash-proof state: frames saved whole or not at all, the journal of what was
  done, and the rule by which a restart goes on where the night stopped; standard library only.
- ``rig/``: the hands, what the sequencer asks of a camera, wheel, focuser and mount
  (`rig.protocols`), and their INDI implementation on an indipyclient connection.
- ``link``: where an agent's client connects (`AgentLink`): the address given, else the
  hosting server's, which `IPyServer` hands its in-process drivers when it listens.
- ``runner``: one runner at a time on an agent's camera (`Runner`), shared by its faces.
- ``imager/``: indilib's imager agent's face ("Imager Agent"), one `Role` of an agent device
  that other parts (the sequencer's face) join.
- ``sequencer/``: the engine that runs a plan, and its face (another `Role`).
- ``imageragent/``: the imager agent assembled: the device of both faces
  (`imageragent.driver.make_device`), its driver, the night's factory, and the executable
  ``indipy_agent_imager``.
"""
