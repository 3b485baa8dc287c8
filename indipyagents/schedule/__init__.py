"""The scheduler (issue 82): a scheduled plan's targets placed in the nights as the sky allows
(the highest priority whose constraints hold at each moment, greedy as Ekos's), its sky maths
pure and standard library only, and the command ``indipy-schedule``."""
