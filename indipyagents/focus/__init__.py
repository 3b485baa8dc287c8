"""Autofocus: star sizes measured on frames (`indipyagents.stars.measure.hfr`, the agents'
one star room: numpy and sep, the optional extra [agents]), a V-curve fitted to them (`vcurve`, pure), and the run that moves the focuser and
takes the frames (`autofocus`, on the rig's Protocols)."""
