"""A night's plan, pure (standard library only): as Python objects (`model`), as a TOML file
(`toml`, read by `reading`, `fields`, `coords`, lines found by `locate`), checked against the
devices (`needs`, `check`), expanded into the sequencer's steps (`steps`) and the decisions it
takes between frames (`decisions`)."""
