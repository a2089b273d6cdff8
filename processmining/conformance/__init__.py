"""Conformance: what happened versus the reference model (BPMN or PNML) and the audit rules.

:func:`conform` aligns every **variant** once (in parallel, within one time
budget), turns the alignments into one deviation record per case (kinds
``missing``, ``unexpected``, ``out_of_order``, ``not_computed``), adds the
rule violations (kind ``rule``) from :mod:`processmining.rules`, marks the
accepted ones, and summarises: fitness and precision as pm4py defines them,
fitting cases, deviating-case shares per kind and activity, and for every
deviation pattern its effect on throughput time.

>>> from processmining.bpmn import read_bpmn                              # doctest: +SKIP
>>> result = conform(log, read_bpmn("bpmn_models/lead_to_order.bpmn"))    # doctest: +SKIP
>>> result.summary["fitness"], len(result.deviations)                     # doctest: +SKIP
(0.9921, 412)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accepted import AcceptedDeviations, AcceptedPattern, read_accepted
    from .alignment import CompiledNet
    from .check import ConformanceResult, conform
    from .precision import align_etc_precision, etc_precision
    from .reference import ReferenceNet, read_model, reference_net

#: public name -> the submodule that defines it. Imported on first use, so that the alignment workers
#: (which import only ``.alignment``) start without pandas: each spawned worker saves ~100 MB and seconds
_EXPORTS = {
    "AcceptedDeviations": ".accepted", "AcceptedPattern": ".accepted", "read_accepted": ".accepted",
    "CompiledNet": ".alignment", "ConformanceResult": ".check", "conform": ".check",
    "align_etc_precision": ".precision", "etc_precision": ".precision",
    "ReferenceNet": ".reference", "read_model": ".reference", "reference_net": ".reference",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:  # a submodule reached as an attribute (``conformance.check``) is imported too
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "AcceptedDeviations",
    "AcceptedPattern",
    "CompiledNet",
    "ConformanceResult",
    "ReferenceNet",
    "align_etc_precision",
    "conform",
    "etc_precision",
    "read_accepted",
    "read_model",
    "reference_net",
]
