"""Typed errors. Every error says what was expected, what was found, and where.

The CLI turns a :class:`ProcessMiningError` into a one-line message and exit
code 2; the app shows it as a friendly message. Anything else is a bug.
"""

from __future__ import annotations


class ProcessMiningError(Exception):
    """Base class for input the tool cannot use.

    ``where`` is rendered in front of the message: the file, then line /
    row / column / element when known, e.g.
    ``orders.csv, line 12, column 'CreatedDate': 'garbage' is not a date``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: str | int | None = None,
        element: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.element = element
        super().__init__(self.__str__())

    @property
    def where(self) -> str:
        parts: list[str] = []
        if self.source:
            parts.append(str(self.source))
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column!r}" if isinstance(self.column, str) else f"column {self.column}")
        if self.element:
            parts.append(f"element {self.element}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where
        return f"{where}: {self.message}" if where else self.message


class IngestError(ProcessMiningError):
    """An event-log file (CSV, XLSX, JSON, XES, Parquet) cannot be used at all."""


class UnsafeInputError(IngestError):
    """Input refused for safety: XML entities/DTDs, URLs, decompression bombs, too large."""


class BpmnError(ProcessMiningError):
    """A BPMN model cannot be read, or cannot be used for the requested analysis."""


class RuleError(ProcessMiningError):
    """An audit rule (RULES.yaml) is malformed or refers to unknown activities."""


class ConformanceError(ProcessMiningError):
    """Conformance cannot be computed (e.g. the model is unsound)."""


class AnalysisError(ProcessMiningError, ValueError):
    """An analysis parameter cannot be used on this log: an unknown activity or column,
    a malformed duration or SLA target, an empty selection."""


class OutputError(ProcessMiningError):
    """An output cannot be written where asked: it is one of the inputs, its folder is missing, a symlink loop."""
