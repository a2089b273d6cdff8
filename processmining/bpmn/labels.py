"""Matching BPMN task names to log activity labels.

Names are compared after trimming, collapsing inner whitespace and
case-folding (``' Approve '`` matches ``approve``). An explicit mapping
(CSV ``task,activity`` or a YAML dict) handles the rest.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import BpmnError
from ..safe_input import display_name, read_bytes

if TYPE_CHECKING:
    from .model import BpmnModel


def normalise_label(text: str) -> str:
    """Trim, collapse whitespace and case-fold: the key labels are compared by.

    The one label normaliser for matching names (task names, log activities, process and pool names).
    """
    return " ".join(str(text).split()).casefold()


@dataclass
class LabelMatch:
    """Task names vs. log activities.

    ``label_map`` (task name -> activity) goes to :func:`to_petri_net`;
    ``model_only`` are task names no activity matched, ``log_only`` are
    activities no task matched (incl. other spellings of a matched name, also
    listed per task in ``variants``); ``by_mapping`` are the pairs that came
    from the explicit mapping.
    """

    label_map: dict[str, str] = field(default_factory=dict)
    model_only: list[str] = field(default_factory=list)
    log_only: list[str] = field(default_factory=list)
    by_mapping: dict[str, str] = field(default_factory=dict)
    #: task name -> other log spellings of it (differing only in case / spaces), left unmatched
    variants: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.model_only and not self.log_only


def match_labels(
    model: BpmnModel,
    activities: Iterable[str],
    *,
    mapping: Mapping[str, str] | None = None,
) -> LabelMatch:
    """Match the model's task names to log activity labels.

    ``mapping`` (task name -> activity label) wins over name matching.
    Returns a :class:`LabelMatch`; pass ``match.label_map`` to
    :func:`to_petri_net` so visible transitions carry the log's labels.

    Example::

        >>> m = match_labels(model, ["approve", "Ship"])   # model task ' Approve '
        >>> m.label_map
        {'Approve': 'approve'}
        >>> m.model_only, m.log_only
        ([], ['Ship'])
    """
    acts = list(dict.fromkeys(str(a) for a in activities))
    by_key: dict[str, list[str]] = {}
    for a in acts:
        by_key.setdefault(normalise_label(a), []).append(a)
    explicit = {normalise_label(k): v for k, v in (mapping or {}).items()}
    out = LabelMatch()
    used: set[str] = set()
    seen_tasks: set[str] = set()
    for task in model.tasks:
        if not task.label or task.label in seen_tasks:
            continue
        seen_tasks.add(task.label)
        key = normalise_label(task.label)
        if key in explicit:
            target = explicit[key]
            out.label_map[task.name] = target
            out.by_mapping[task.label] = target
            if target in acts:
                used.add(target)
            else:
                out.model_only.append(task.label)
            continue
        candidates = by_key.get(key, [])
        if candidates:
            # an exact spelling wins; other spellings of the same label stay in log_only
            chosen = task.label if task.label in candidates else candidates[0]
            out.label_map[task.name] = chosen
            used.add(chosen)
            if len(candidates) > 1:
                out.variants[task.label] = [c for c in candidates if c != chosen]
        else:
            out.model_only.append(task.label)
    out.log_only = [a for a in acts if a not in used]
    return out


def read_label_mapping(path: str | os.PathLike | bytes, *, name: str | None = None) -> dict[str, str]:
    """Read a task -> activity mapping: CSV with columns ``task,activity``, or a YAML dict.

    Raises :class:`BpmnError` naming the file and line for a malformed mapping.
    """
    raw = read_bytes(path, name=name)
    label = display_name(path, name)
    try:
        text = raw.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BpmnError(f"label mapping is not UTF-8 text ({exc.reason} at byte {exc.start})", source=label) from None
    suffix = label.lower().rsplit(".", 1)[-1] if "." in label else ""
    if suffix in ("yaml", "yml") or (suffix != "csv" and ":" in text.splitlines()[0] if text.strip() else False):
        return _yaml_mapping(text, label)
    return _csv_mapping(text, label)


def _yaml_mapping(text: str, label: str) -> dict[str, str]:
    import yaml

    from ..safe_input import load_yaml

    try:
        data, _ = load_yaml(text, label)  # alias bombs refused before objects are built
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise BpmnError(f"label mapping is not valid YAML: {exc}", source=label,
                        line=None if line is None else line + 1) from None
    if not isinstance(data, dict):
        raise BpmnError("label mapping YAML must be a dict of task name: activity label", source=label)
    out: dict[str, str] = {}
    for k, v in data.items():
        if not isinstance(v, (str, int, float)) or v is None:
            raise BpmnError(f"task {k!r} maps to {v!r}, expected one activity label", source=label)
        out[str(k)] = str(v)
    return out


def _csv_mapping(text: str, label: str) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise BpmnError("label mapping is empty", source=label)
    header = [normalise_label(h) for h in rows[0]]
    if header[:2] != ["task", "activity"]:
        raise BpmnError(f"label mapping CSV header is {rows[0]!r}, expected task,activity", source=label, line=1)
    out: dict[str, str] = {}
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise BpmnError(f"expected two non-empty cells task,activity, found {row!r}", source=label, line=i)
        task = row[0].strip()
        if task in out and out[task] != row[1].strip():
            raise BpmnError(f"task {task!r} is mapped twice ({out[task]!r} and {row[1].strip()!r})", source=label, line=i)
        out[task] = row[1].strip()
    return out
