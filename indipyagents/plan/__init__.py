"""A night's plan as Python objects (`model`) and as a TOML file (`toml`); pure, no I/O but
the file read."""
