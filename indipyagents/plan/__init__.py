"""A night's plan, pure (standard library only): as Python objects (`model`), as a TOML file
(`toml`, read by `reading`, `fields`, `coords`, lines found by `locate`) and what it asks of
the instruments (`needs`)."""
