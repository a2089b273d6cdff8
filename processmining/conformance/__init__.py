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

from .accepted import AcceptedDeviations, AcceptedPattern, read_accepted
from .alignment import CompiledNet
from .check import ConformanceResult, conform
from .precision import align_etc_precision, etc_precision
from .reference import ReferenceNet, read_model, reference_net

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
