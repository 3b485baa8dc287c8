"""The public path of the INDI properties a client program sees: `Device`, `PropertyVector` and its
kinds, the members (defined in the model, `indipyclient.model.properties`)."""

from .model.properties import *
