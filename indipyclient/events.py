"""indipyclient 0.9.4's path of the client events (defined in the model, `indipyclient.model.events`)."""

from .model.events import *
