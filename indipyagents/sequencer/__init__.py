"""The sequencer: a plan run on the rig, step by step, journalled so a restart continues it
(`engine`), and its INDI face, the vectors a client shows and drives it by (`face`).

`contracts` says what the engine asks of autofocus and its observer (the steps and decisions
are `plan`'s, the journal and frame store `journal`'s); `headers` adds the agent's cards to a
frame's FITS header.
"""
