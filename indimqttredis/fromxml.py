"""indi-mr's ``fromxml``: INDI XML -> redis values (``indiredis.fromxml``)."""

from indiredis.fromxml import DEFAULT_LOG_LENGTHS
from indiredis.fromxml import StoreWriter
from indiredis.fromxml import blob_notice

__all__ = ["DEFAULT_LOG_LENGTHS", "StoreWriter", "blob_notice"]
