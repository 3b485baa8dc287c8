"""The public path of the role clients: `Camera`, `Mount`, `Focuser`, `FilterWheel`, `devices`...
(defined among the front ends, `indipyclient.frontends.roles`)."""

from .frontends.roles import *
