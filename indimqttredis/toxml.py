"""indi-mr's ``toxml``: redis values -> INDI XML (``indiredis.toxml``)."""

from indiredis.toxml import enable_blob_xml
from indiredis.toxml import get_properties_xml
from indiredis.toxml import new_vector_xml

__all__ = ["enable_blob_xml", "get_properties_xml", "new_vector_xml"]
