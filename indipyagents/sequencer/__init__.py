"""The sequencer: a plan run on the rig, step by step, journalled so a restart continues it
(`engine`), and its INDI face, the vectors a client shows and drives it by (`face`).

`control` is where a run stands and every move, as a pure table the engine carries out;
`stepwork` carries out each kind of step, through `hands` (the rig bounded, the clock, the
journal); `triggers` are the behaviours between frames (re-point, meridian flip, dither,
autofocus), each with its own memory. `contracts` says what the engine asks of autofocus and
its observer (the steps and decisions are `plan`'s, the journal and frame store `journal`'s);
`headers` adds the agent's cards to a frame's FITS header.
"""
