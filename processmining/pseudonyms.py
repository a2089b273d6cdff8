"""Pseudonymisation of exports: keyed hashes for case ids and resources, in cells and inside free text.

A :class:`Pseudonymizer` knows every case id and resource name of a log and
replaces them in **every** table an export writes (see
:func:`processmining.export.write_tables`): whole cells of id / resource
columns, and whole-token occurrences inside any other text ("... were both
done by al"), whatever their length. A name is replaced only where it stands
as a token (not inside a longer word), so ``"al"`` is replaced in ``"done by
al"`` but ``"also"`` is left alone.

>>> p = Pseudonymizer.from_names(key="k", cases=["7"], resources=["al", "Ana Lopez"])
>>> p.text("Quote and Approve were both done by al; also by Ana Lopez in case 7")[:40]
'Quote and Approve were both done by res-'
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: columns that hold a case id (whole cell replaced)
CASE_COLUMNS = ("case_id", "case:concept:name", "case")
#: columns that hold a resource / user / agent (whole cell replaced)
RESOURCE_COLUMNS = ("resource", "org:resource", "resources", "user", "agent", "from_resource", "to_resource",
                    "first_resource", "second_resource")
#: longest name, in tokens, looked up inside text
_MAX_TOKENS = 12
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
#: a name that is a bare number (case "7", resource "561") is replaced inside running text only right after
#: one of these words (or ``#``): anywhere else "3 cases" or "561 events" is a count, not a name. Whole
#: values (a cell that *is* the id) are always replaced.
NUMBER_NAME_WORDS = frozenset({"case", "cases", "ticket", "tickets", "deal", "deals", "incident", "incidents",
                               "opportunity", "id", "ids", "#", "by", "resource", "resources", "account",
                               "accounts", "user", "users", "owner", "agent"})

#: column names (lower case, without ``case:``) that hold people: whole values pseudonymised like resources
PERSON_COLUMNS = frozenset({"owner", "deal owner", "user", "assignee", "reporter", "created by", "createdby", "agent",
                            "opportunity owner", "account owner", "assigned to", "org:group", "creator",
                            "responsible", "requester", "submitter", "author", "approver", "manager",
                            "modified by", "changed by", "last modified by"})
#: words in a column name that mark free text which may name people or customers (deal names, ticket
#: summaries, descriptions, comments, e-mail addresses): such columns are left out of pseudonymised outputs
FREE_TEXT_WORDS = ("name", "summary", "description", "title", "subject", "comment", "note", "text", "body",
                   "message", "mail", "phone", "customer", "company", "contact", "address")
#: an unnamed text column with more distinct values than this, most of them several words, is free text too
FREE_TEXT_DISTINCT = 50
_CANONICAL_KEPT = frozenset({"concept:name", "lifecycle:transition", "@@index", "@@source_row"})


def pseudonym(value: str, key: str | bytes, *, prefix: str = "") -> str:
    """A keyed hash of ``value`` (HMAC-SHA256, first 16 hex digits): same key + value → same pseudonym.

    Without the key the original cannot be recovered or confirmed by guessing.

    >>> pseudonym("005Hs000001AaBbIAK", "secret") == pseudonym("005Hs000001AaBbIAK", "secret")
    True
    """
    k = key.encode() if isinstance(key, str) else key
    return prefix + hmac.new(k, value.encode(), hashlib.sha256).hexdigest()[:16]


def _tokens(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(text)]


def _names_follow(text: str, spans: list[tuple[int, int]], i: int) -> bool:
    """Whether the token before ``spans[i]`` is a word after which a bare number is an id (:data:`NUMBER_NAME_WORDS`)."""
    return i > 0 and text[spans[i - 1][0]:spans[i - 1][1]].casefold() in NUMBER_NAME_WORDS


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or isinstance(s.dtype, pd.StringDtype)


def _looks_free_text(values: pd.Series) -> bool:
    """Many distinct values, most of them several words, and not numbers or dates."""
    if len(values) <= FREE_TEXT_DISTINCT:
        return False
    text = values.astype(str)
    if pd.to_numeric(text, errors="coerce").notna().mean() >= 0.5:
        return False
    if pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True).notna().mean() >= 0.5:
        return False
    return bool(text.str.strip().str.contains(r"\s", regex=True).mean() >= 0.5)


def column_policy(frame: pd.DataFrame) -> dict[str, str]:
    """How each text column of an event log is pseudonymised: ``"case"``, ``"person"`` or ``"free text"``.

    * the case id → ``case-…``; the resource, and every column that names people (by its name, see
      :data:`PERSON_COLUMNS`, or because at least half of its values are resources) → ``res-…``, so
      one person has one pseudonym in every column;
    * free text that may name people or customers (a name with a word of :data:`FREE_TEXT_WORDS`, such
      as HubSpot's ``Deal Name`` or Jira's ``summary``, or more than :data:`FREE_TEXT_DISTINCT`
      distinct values that are mostly several words) → ``"free text"``: left out of the outputs;
    * every other column (activities, stages, priorities, teams codes, amounts, dates) is not listed
      and kept as it is, with known names inside its text replaced.

    >>> df = pd.DataFrame({"case:concept:name": ["1"], "org:resource": ["al"], "case:Deal Name": ["Acme - renewal"],
    ...                    "case:Deal owner": ["Ana"], "case:priority": ["High"]})
    >>> column_policy(df)
    {'case:concept:name': 'case', 'org:resource': 'person', 'case:Deal owner': 'person', 'case:Deal Name': 'free text'}
    """
    policy: dict[str, str] = {}
    if "case:concept:name" in frame.columns:
        policy["case:concept:name"] = "case"
    people: set[str] = set()
    if "org:resource" in frame.columns:
        policy["org:resource"] = "person"
        people = set(frame["org:resource"].dropna().astype(str).unique())
    texts: list[str] = []
    for col in frame.columns:
        if col in policy or col in _CANONICAL_KEPT or not isinstance(col, str) or not _is_text(frame[col]):
            continue
        name = col.lower().removeprefix("case:").strip()
        values = frame[col].dropna().astype(str).drop_duplicates()
        if name in PERSON_COLUMNS or (people and len(values) and values.isin(people).mean() >= 0.5):
            policy[col] = "person"
        elif any(w in re.split(r"[^a-z]+", name) for w in FREE_TEXT_WORDS) or _looks_free_text(values):
            texts.append(col)
    policy.update(dict.fromkeys(texts, "free text"))
    return policy


@dataclass
class Pseudonymizer:
    """Replaces known case ids (``case-…``) and resource names (``res-…``) everywhere in an export."""

    key: str | bytes
    #: original -> pseudonym
    names: dict[str, str] = field(default_factory=dict)
    max_tokens: int = 1
    #: free-text columns of the log (see :func:`column_policy`): left out of every table this writes
    dropped: tuple[str, ...] = ()
    #: the log's columns whose whole values became pseudonyms (case id, resource, people)
    hashed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("pseudonymisation needs a non-empty key")

    @classmethod
    def from_names(cls, *, key: str | bytes, cases: Iterable[object] = (),
                   resources: Iterable[object] = ()) -> Pseudonymizer:
        names: dict[str, str] = {}
        for values, prefix in ((resources, "res-"), (cases, "case-")):
            for v in values:
                if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                    continue
                text = str(v)
                if text.strip() and text not in names:
                    names[text] = pseudonym(text, key, prefix=prefix)
        longest = max((len(_tokens(n)) for n in names), default=1)
        return cls(key=key, names=names, max_tokens=min(max(longest, 1), _MAX_TOKENS))

    @classmethod
    def from_log(cls, log: object, *, key: str | bytes) -> Pseudonymizer:
        """Every case id, resource and person named in a column of an :class:`~processmining.model.EventLog`;
        its free-text columns are dropped from what this writes (:func:`column_policy`)."""
        df = log.df  # type: ignore[attr-defined]
        policy = column_policy(df)
        people = [v for col, kind in policy.items() if kind == "person" for v in df[col].dropna().unique()]
        cases = df["case:concept:name"].unique() if "case:concept:name" in df.columns else ()
        p = cls.from_names(key=key, cases=cases, resources=people)
        p.dropped = tuple(c for c, kind in policy.items() if kind == "free text")
        p.hashed = tuple(c for c, kind in policy.items() if kind != "free text")
        return p

    def note(self) -> str:
        """One line for the output: what was pseudonymised and which columns were left out."""
        line = "pseudonymized (keyed hashes): " + (", ".join(self.hashed) or "names found in the text")
        if self.dropped:
            line += "; left out as free text that may name people or customers: " + ", ".join(self.dropped)
        return line

    def log_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """An event-log frame with its case id, resource and people columns replaced whole and its free-text
        columns removed; every other column (activities, attributes) is kept exactly as it is."""
        out = frame.drop(columns=[c for c in self.dropped if c in frame.columns])
        for col in self.hashed:
            if col not in out.columns:
                continue
            values = out[col]
            mask = values.notna()
            codes, uniques = pd.factorize(values[mask].astype(str))
            mapped = np.array([self.names.get(u, u) for u in uniques], dtype=object)
            new = pd.Series(pd.NA, index=out.index, dtype="object")
            new[mask] = mapped[codes]
            out[col] = new.astype("string")
        return out

    def _dropped(self, frame: pd.DataFrame) -> list[str]:
        gone = set(self.dropped) | {c.removeprefix("case:") for c in self.dropped}
        return [c for c in frame.columns if isinstance(c, str) and c in gone]

    def text(self, value: str) -> str:
        """``value`` with every whole-token occurrence of a known name replaced (longest match first)."""
        if not self.names or not value:
            return value
        whole = self.names.get(value)
        if whole is not None:
            return whole
        spans = _tokens(value)
        out: list[str] = []
        pos = 0
        i = 0
        while i < len(spans):
            hit = None
            for j in range(min(len(spans), i + self.max_tokens) - 1, i - 1, -1):
                candidate = value[spans[i][0]:spans[j][1]]
                if candidate in self.names and (not candidate.isdigit() or _names_follow(value, spans, i)):
                    hit = (j, self.names[candidate])
                    break
            if hit is None:
                i += 1
                continue
            out.append(value[pos:spans[i][0]])
            out.append(hit[1])
            pos = spans[hit[0]][1]
            i = hit[0] + 1
        out.append(value[pos:])
        return "".join(out)

    def column(self, s: pd.Series) -> pd.Series:
        """A text column with names replaced (each distinct value handled once)."""
        mask = s.notna()
        if not mask.any():
            return s
        is_text = s.map(lambda v: isinstance(v, str)) if s.dtype == object else mask
        sel = mask & is_text
        if not sel.any():
            return s
        codes, uniques = pd.factorize(s[sel].astype(str))
        mapped = np.array([self.text(u) for u in uniques], dtype=object)
        out = s.astype(object).copy()
        out[sel] = mapped[codes]
        return out.astype("string") if isinstance(s.dtype, pd.StringDtype) else out

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with id / resource cells and names inside every text cell (and header) replaced,
        and the log's free-text columns (:attr:`dropped`, with or without ``case:``) left out."""
        out = frame.drop(columns=self._dropped(frame))
        for col in out.columns:
            s = out[col]
            if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
                out[col] = self.column(s)
        out.columns = [self.text(str(c)) if isinstance(c, str) else c for c in out.columns]
        return out

    def mapping(self, value: object) -> object:
        """A nested summary (dicts, lists, text) with names replaced in keys and values."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)) if isinstance(k, str) else k: self.mapping(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.mapping(v) for v in value]
        if isinstance(value, (set, frozenset)):
            return frozenset(self.mapping(v) for v in value)
        if isinstance(value, pd.DataFrame):
            return self.frame(value)
        return value


def pseudonymize(
    frame: pd.DataFrame,
    *,
    key: str | bytes,
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """A copy of ``frame`` with the given columns replaced by keyed hashes.

    ``columns`` maps a column name to a pseudonym prefix, e.g.
    ``{"case_id": "case-", "resource": "res-"}``. Missing values stay missing;
    absent columns are ignored. Each distinct value is hashed once (vectorised
    over the categories). The mapping is never returned or written anywhere.
    """
    if not key:
        raise ValueError("pseudonymisation needs a non-empty key")
    out = frame.copy()
    for col, prefix in columns.items():
        if col not in out.columns:
            continue
        values = out[col]
        mask = values.notna()
        if not mask.any():
            continue
        codes, uniques = pd.factorize(values[mask].astype(str))
        hashed = np.array([pseudonym(u, key, prefix=prefix) for u in uniques], dtype=object)
        new = pd.Series(pd.NA, index=out.index, dtype="object")
        new[mask] = hashed[codes]
        out[col] = new.astype("string")
    return out


def pseudonymize_text(text: str, *, key: str | bytes, values: Mapping[str, str]) -> str:
    """Replace each original value (a key of ``values``, mapped to a prefix) standing as a token in ``text``."""
    p = Pseudonymizer(key=key, names={v: pseudonym(v, key, prefix=pre) for v, pre in values.items() if v},
                      max_tokens=12)
    return p.text(text)


def pseudonymize_table(
    frame: pd.DataFrame,
    *,
    key: str | bytes,
    case_column: str = "case_id",
    resource_column: str = "resource",
    text_columns: Iterable[str] | None = None,  # noqa: ARG001 - every text column is covered now
    pseudonymizer: Pseudonymizer | None = None,
) -> pd.DataFrame:
    """Pseudonymise a deviation-shaped table: case ids (``case-…``) and resources (``res-…``).

    Case ids and resource names of **any length** quoted inside any text
    column (e.g. "... were both done by al") are replaced by the same
    pseudonyms wherever they stand as a token. Pass ``pseudonymizer`` (built
    from the whole log with :meth:`Pseudonymizer.from_log`) to cover names
    that are not in this table's id columns too.
    """
    p = pseudonymizer
    if p is None:
        cases = frame[case_column].dropna().unique() if case_column in frame.columns else ()
        res = frame[resource_column].dropna().unique() if resource_column in frame.columns else ()
        p = Pseudonymizer.from_names(key=key, cases=cases, resources=res)
    return p.frame(frame)
