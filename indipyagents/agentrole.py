"""What every agent's face does as a `Role` the same way, written once: its vectors are those
it made, by name, all defined from the start (an agent works while disconnected: a client
need not CONNECT it), the saved ones taken at start; its messages and its tasks' failures go
to the device's logger once attached; CONNECT and DISCONNECT start and stop nothing.
A face adds its `interface`, its `new_vector` and what else it does."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from indipydriver.propertyvector import PropertyVector
from indipydriver.standard.role import RoleDevice
from indipydriver.standard.role import RoleTasks

__all__ = ["AgentRole", "FaceVectors"]


class FaceVectors:
    """A face's vectors as attributes, each made afresh in the subclass's ``__init__`` and
    typed by what it is (a face keeps its vectors typed), nothing else among them."""

    def by_name(self) -> dict[str, PropertyVector]:
        """Every vector by name, in the order they are made (each attribute is one)."""
        return {vector.name: vector for vector in vars(self).values()}


class AgentRole:
    """The Role's common part of an agent's face: `made` its vectors by name, `saved` the
    names its CONFIG_SAVE writes and its start takes back."""

    def __init__(self, made: dict[str, PropertyVector], saved: tuple[str, ...]) -> None:
        self.made = made
        self.always_names = tuple(made)
        self.config_names = saved
        self.startup_names = saved
        self.tasks = RoleTasks()
        self._device: RoleDevice | None = None

    def vectors(self) -> Sequence[PropertyVector]:
        return list(self.made.values())

    def attach(self, device: RoleDevice) -> None:
        self._device = device
        self.tasks.attach(device)

    @property
    def log(self) -> logging.Logger:
        """The device's logger (clients see its records), else the face's module's."""
        if self._device is not None:
            return self._device.logger
        return logging.getLogger(type(self).__module__)

    async def connected(self) -> None:
        return None

    async def disconnected(self) -> None:
        return None
