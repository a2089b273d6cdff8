"""XES import and export: hardened, streaming, lossless.

:func:`read_xes` (in :mod:`.read`) turns an IEEE XES file (``.xes`` or
``.xes.gz``) into an :class:`~processmining.model.EventLog`; :func:`write_xes`
(in :mod:`.write`) writes one back. See each module for the details.
"""

from __future__ import annotations

from .read import read_xes
from .write import write_xes

__all__ = ["read_xes", "write_xes"]
