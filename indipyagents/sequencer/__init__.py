"""The sequencer: a plan run on the rig, step by step, journalled so a restart continues it
(`engine`), and its INDI face, the vectors a client shows and drives it by (`face`).

`contracts` says what the engine asks of the journal, the frame store, autofocus and its
observer; `standins` holds, until the plan and journal folders have them, the shared names the
engine runs on (the steps, the decisions, the resume rule); `headers` adds the agent's cards to
a frame's FITS header.
"""
