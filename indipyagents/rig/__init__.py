"""The sequencer's hands: what it asks of each instrument (`protocols`), and the INDI devices
that answer it, driven through their standard properties on one indipyclient connection."""
