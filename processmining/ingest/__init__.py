"""Lossless import of CRM and ticket exports (CSV, TSV, XLSX, JSON, Parquet, XES) into an :class:`EventLog`.

Typical use::

    from processmining.ingest import read_log
    log = read_log("OpportunityFieldHistory.csv", preset="salesforce-field-history")
    print(log.report.summary())

Every input row ends up as an event or as a counted, named row of the
:class:`~processmining.model.IngestReport` (quarantined with its line number,
collapsed as an export artefact, or filtered as a non-stage field).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import IngestError
from ..lifecycle import pair_lifecycle
from ..memory import release_freed_memory
from ..model import (
    ORDER,
    SOURCE_ROW,
    ColumnMapping,
    EventLog,
    ProgressFn,
    no_progress,
)
from ..safe_input import MAX_INPUT_BYTES, InputBytes, atomic_output, check_output_path, read_bytes
from .assemble import assemble
from .guess import column_types, guess_mapping
from .nested import NESTED_PRESET, detect_nested, flatten_nested
from .presets import PRESETS, Preset, detect_preset, get_preset, list_presets
from .shapes import Staged, first_present, long_shape, transition_shape, wide_shape
from .tabular import (
    Table,
    is_times,
    load_json,
    read_csv_text,
    read_json_table,
    read_parquet,
    read_table,
    refuse_url_path,
    sniff_head,
    sniff_kind,
)
from .timestamps import check_timezone, parse_timestamps
from .xlsx import read_xlsx

__all__ = [
    "PRESETS",
    "ColumnMapping",
    "Preset",
    "Table",
    "detect_preset",
    "get_preset",
    "column_types",
    "guess_mapping",
    "list_presets",
    "parse_timestamps",
    "read_log",
    "read_table",
    "write_log",
]


def _apply_stage_labels(staged: Staged, labels: Mapping[str, str], warnings: list[str]) -> None:
    """Replace stage ids by labels before collapsing, so two ids with one label are one stage."""
    acts = staged.frame["_activity"]
    mapped = acts.map(dict(labels))
    warnings.extend(unlabelled_stages_note(sorted(set(acts[mapped.isna() & acts.notna()].astype(str)))))
    staged.frame["_activity"] = mapped.fillna(acts).astype(acts.dtype)


def unlabelled_stages_note(unknown: list[str]) -> list[str]:
    """The warning about stage ids the stage lookup has no label for (none when every id has one); both engines."""
    if not unknown:
        return []
    return [f"{len(unknown)} stage ids have no label in the stage lookup and are kept as ids: "
            + ", ".join(map(repr, unknown[:10])) + (" ..." if len(unknown) > 10 else "")]


def _explicit(mapping: ColumnMapping | None) -> bool:
    """Whether the caller named the case, activity or timestamp column (then no layout is auto-detected)."""
    return mapping is not None and any((mapping.case, mapping.activity, mapping.timestamp))


def read_log(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    preset: str | None = None,
    mapping: ColumnMapping | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    sheet: str | None = None,
    progress: ProgressFn = no_progress,
    stage_labels: Mapping[str, str] | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
    lifecycle: str = "instances",
) -> EventLog:
    """Read an event log or a CRM / ticket export and return an :class:`EventLog` with its report.

    The format is detected from the content (gzip by magic bytes, XLSX,
    Parquet, XML → XES, JSON) and then the extension. ``preset`` names the
    export layout (see :func:`list_presets`); ``mapping`` names the columns of
    a long table explicitly (and overrides the preset's columns); with
    neither, a known export layout is recognised from its columns, or the
    mapping is guessed - the report says which. ``dayfirst`` decides
    ``03/04/2024``; ``timezone`` is applied to timestamps without an offset.
    ``stage_labels`` maps stage ids (HubSpot, ServiceNow, Pipedrive) to labels.
    ``max_bytes`` caps the (decompressed) input size. ``lifecycle``: start /
    complete events become activity instances (``"instances"``), or stay
    events named ``activity+transition`` (``"classifier"``) or as read
    (``"events"``); see :mod:`processmining.lifecycle`.

    ``log.report`` accounts for every input row: ``rows_read == events +
    quarantined + collapsed + filtered``.

    >>> log = read_log(b"case,activity,time\\n1,Open,2024-03-01 09:00\\n1,Close,2024-03-02 10:00\\n", name="t.csv")
    >>> log.n_events, log.report.mapping["case"]
    (2, 'case')
    """
    check_timezone(timezone)
    refuse_url_path(source)
    progress(0, 4, "reading")
    if _local_xes(source, max_bytes):  # scanned as it is read (and gunzipped): the XML is never whole in memory
        log = _read_xes(source, name=name, progress=progress, max_bytes=max_bytes)  # type: ignore[arg-type]
        return _paired(log, lifecycle)
    data = read_bytes(source, name=name, max_bytes=max_bytes)
    kind = sniff_kind(data)
    chosen = get_preset(preset) if preset else None
    if kind == "xes":
        return _paired(_read_xes(data, progress=progress), lifecycle)  # type: ignore[arg-type]
    progress(1, 4, "parsing")
    warnings: list[str] = []
    table: Table
    if kind == "json":
        doc = load_json(data, warnings)
        nested = chosen.nested if chosen and chosen.nested else (None if chosen else detect_nested(doc))
        if nested:
            table = flatten_nested(nested, doc, data)
            if chosen is None:
                chosen = get_preset(NESTED_PRESET[nested])
                warnings.append(f"layout recognised as preset {chosen.name!r}")
        else:
            table = read_json_table(data, doc)
    elif kind == "xlsx":
        table = read_xlsx(data, sheet=sheet)
    elif kind == "parquet":
        table = read_parquet(data, typed=True)
    else:
        table = read_csv_text(data)
    source, sha256 = data.name, data.sha256
    del data  # the file's bytes: the table holds its own copy of the cells
    warnings = table.warnings + warnings
    if chosen is None and not _explicit(mapping):
        chosen = detect_preset(list(table.frame.columns))
        if chosen is not None:
            warnings.append(f"layout recognised as preset {chosen.name!r} (pass --preset or --case/--activity/"
                            "--timestamp to override)")
    progress(2, 4, "timestamps")
    tz = timezone
    df_rule = dayfirst if dayfirst is not None else (chosen.dayfirst if chosen else None)
    staged = _stage(table, chosen, mapping, dayfirst=df_rule, timezone=tz, warnings=warnings)
    if stage_labels:
        _apply_stage_labels(staged, stage_labels, warnings)
    if chosen and chosen.history_note:
        warnings.append(chosen.history_note)
    progress(3, 4, "building log")
    del table  # the text table: assemble lets the staged columns go as it uses them
    log = assemble(staged, source=source, sha256=sha256,
                   shape=chosen.shape if chosen else "long",
                   preset=chosen.name if chosen else None, timezone=tz,
                   collapse_repeats=bool(chosen and chosen.collapse_repeats), warnings=warnings, name=name)
    del staged
    release_freed_memory()  # the staging tables and the file's bytes
    progress(4, 4, "done")
    return _paired(log, lifecycle)


def _paired(log: EventLog, lifecycle: str) -> EventLog:
    """The log with its lifecycle events paired (:func:`pair_lifecycle`); when pairing built a new log, the
    unpaired one's memory handed back (the readers hand back their own before they return)."""
    paired = pair_lifecycle(log, mode=lifecycle)  # type: ignore[arg-type]
    if paired is not log:
        del log
        release_freed_memory()  # later steps start from what the paired log holds
    return paired


def _stage(table: Table, preset: Preset | None, mapping: ColumnMapping | None, *, dayfirst: bool | None,
           timezone: str, warnings: list[str]) -> Staged:
    m = mapping.to_dict() if mapping else {}
    if preset is not None and preset.shape != "long":
        table = table.textual()  # wide and transition exports: every cell as text, as from a CSV
    if preset is None or (m and preset.shape == "long"):
        if preset is not None:  # explicit flags override the preset's columns
            base = {"case": first_present(table, preset.case, "case"), "activity": preset.activity,
                    "timestamp": preset.timestamp, "resource": preset.resource,
                    "end_timestamp": preset.end_timestamp}
            m = {**{k: v for k, v in base.items() if v}, **m}
        elif not {"case", "activity", "timestamp"} <= set(m):
            try:
                guessed = guess_mapping(table.frame).to_dict()
            except IngestError as exc:
                raise IngestError(exc.message, source=table.source) from None
            chosen = {k: v for k, v in guessed.items() if k not in m and v not in m.values()}
            m = {**chosen, **m}
            if chosen:
                warnings.append("guessed columns: " + ", ".join(f"{k}={v!r}" for k, v in chosen.items())
                                + " (override with --case/--activity/--timestamp/--resource)")
            if not m.get("timestamp"):
                warnings.append("no column holds timestamps: the file order is the event order "
                                "(name one with --timestamp)")
        return long_shape(table, case=m.get("case"), activity=m.get("activity"), timestamp=m.get("timestamp"),
                          resource=m.get("resource"), end_timestamp=m.get("end_timestamp"), dayfirst=dayfirst,
                          timezone=timezone)
    case = m.get("case") or first_present(table, preset.case, "case")
    if preset.shape == "long":
        return long_shape(table, case=case, activity=preset.activity, timestamp=preset.timestamp,
                          resource=m.get("resource") or (preset.resource if preset.resource in table.frame else None),
                          end_timestamp=preset.end_timestamp, dayfirst=dayfirst, timezone=timezone)
    if preset.shape == "wide":
        return wide_shape(table, case=case, pattern=preset.wide_pattern or "", dayfirst=dayfirst, timezone=timezone)
    resource = m.get("resource") or (preset.resource if preset.resource and
                                     preset.resource.lower() in {c.lower() for c in table.frame.columns} else None)
    old = preset.old_value if preset.old_value and preset.old_value.lower() in {
        c.lower() for c in table.frame.columns} else None
    return transition_shape(
        table, case=case, field_col=preset.field or "", new=m.get("activity") or preset.activity or "",
        timestamp=m.get("timestamp") or preset.timestamp or "", stage_fields=preset.stage_fields, old=old,
        resource=resource, created_values=preset.created_values, new_fallback=preset.activity_fallback,
        old_fallback=preset.old_value_fallback, current="current" if preset.nested == "jira" else None,
        dayfirst=dayfirst, timezone=timezone)


def _local_xes(source: object, max_bytes: int) -> bool:
    """Whether ``source`` is a local file the XES stream reads (:class:`~processmining.xes.source.FileStream`)
    whose first (gunzipped) bytes sniff as XES.

    Whatever the stream declines (bytes, a missing or special file, over ``max_bytes``, corrupt gzip)
    answers ``False``, so the bytes path below reads it and gives its usual message.
    """
    if not isinstance(source, (str, os.PathLike)):
        return False
    from ..xes.source import Declined, FileStream

    try:
        with FileStream(source, max_bytes) as stream:
            head = next(stream.pieces(), b"")
    except Declined:
        return False
    return sniff_head(head, Path(source).name) == "xes"


def _read_xes(data: InputBytes | str | os.PathLike, *, progress: ProgressFn, name: str | None = None,
              max_bytes: int = MAX_INPUT_BYTES) -> EventLog:
    try:
        from ..xes import read_xes
    except ModuleNotFoundError as exc:
        if exc.name != "processmining.xes":
            raise
        label = data.name if isinstance(data, InputBytes) else (name or Path(data).name)
        raise IngestError("XES import is not available in this build", source=label) from None
    if isinstance(data, InputBytes):
        return read_xes(data, progress=progress)
    return read_xes(data, name=name, progress=progress, max_bytes=max_bytes)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV via Arrow (RFC 4180, text quoted), timestamps as ISO 8601 UTC with ``+00:00``.

    Six fraction digits, nine when some value has nanoseconds (never truncated).
    Text cells and header cells that a spreadsheet would run as a formula get a
    leading ``'`` (:func:`processmining.export.neutralise_arrow`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from ..export import neutralise_arrow, neutralise_csv_cell

    cols = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            naive = np.asarray(s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
            unit = "ns" if np.datetime_data(naive.dtype)[0] == "ns" and (
                naive[~np.isnat(naive)].view("i8") % 1000).any() else "us"
            text = pa.array(np.datetime_as_string(naive, unit=unit), type=pa.string())
            text = pc.if_else(pa.array(np.isnat(naive)), pa.scalar(None, pa.string()), text)
            cols[c] = pc.binary_join_element_wise(text, pa.scalar("+00:00"), "")
        elif isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
            cols[c] = neutralise_arrow(s.astype(pd.StringDtype("pyarrow")).array.__arrow_array__().combine_chunks())
        else:
            cols[c] = pa.array([None if pd.isna(v) else str(v) for v in s.tolist()], type=pa.string())
    names = [str(neutralise_csv_cell(str(c))) for c in cols]
    pacsv.write_csv(pa.table(list(cols.values()), names=names), path,
                    write_options=pacsv.WriteOptions(quoting_style="needed"))


def _has_nanoseconds(times: pd.Series) -> bool:
    ns = pd.DatetimeIndex(times.dropna()).as_unit("ns").asi8
    return bool((ns % 1000 != 0).any())


def write_log(log: EventLog, dest: str | os.PathLike) -> None:
    """Write ``log`` to ``dest``: ``.csv``, ``.parquet``, ``.xes`` or ``.xes.gz`` (by extension).

    CSV timestamps are ISO 8601 UTC with microseconds (nanoseconds when the
    data has them) and ``+00:00``, so they read back unchanged; formula-like
    text gets a leading ``'`` in CSV (a spreadsheet opens it); internal
    columns (``@@index``, ``@@source_row``) are left out of CSV and XES, and
    kept in Parquet. Parquet timestamps are microseconds (what Spark reads)
    unless some value has nanoseconds. The file is written atomically; a path that is an input
    of the running command is refused.

    >>> import tempfile, pathlib
    >>> log = read_log(b"case,activity,time\\n1,Open,2024-03-01 09:00\\n", name="t.csv")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.csv"; write_log(log, p); p.read_text().splitlines()[1]
    '"1","Open","2024-03-01T09:00:00.000000+00:00"'
    """
    path = Path(dest)
    low = path.name.lower()
    if not low.endswith((".xes", ".xes.gz", ".parquet", ".csv")):
        raise IngestError(f"cannot write {path.name!r}: use .csv, .parquet, .xes or .xes.gz")
    check_output_path(path)
    if low.endswith((".xes", ".xes.gz")):
        from ..xes import write_xes

        write_xes(log, path)
        return
    df = log.df
    with atomic_output(path) as tmp:
        if low.endswith(".parquet"):
            # microseconds (what Spark and most lake engines read) unless some value has nanoseconds
            sub_us = any(_has_nanoseconds(df[c]) for c in df.columns if is_times(df[c].dtype))
            df.to_parquet(tmp, index=False, **({} if sub_us else {"coerce_timestamps": "us"}))
        else:
            _write_csv(df.drop(columns=[c for c in (ORDER, SOURCE_ROW) if c in df.columns]), tmp)

