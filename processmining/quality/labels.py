"""Checks on activity labels: synonymous / distorted labels and polluted labels.

Suriadi et al. (2017) patterns *synonymous labels*, *distorted label* and
*polluted label*. The work is done on the distinct labels and their
frequencies (a few hundred strings even for million-event logs), never per
event.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..bpmn.labels import normalise_label
from ..model import ACTIVITY, CASE, EventLog
from .codes import value_counts, value_mask
from .findings import Finding, QualityConfig, count_noun, make_finding

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]+")
_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
#: a label that differs from a frequent one is compared against at most this many frequent labels
_MAX_CHOICES = 1000
#: ... and at most this many rare labels are compared (the rest is counted in details)
_MAX_QUERIES = 20000


def normalize_label(label: str) -> str:
    """The *similarity* key of a label: case-folded, punctuation as space, whitespace collapsed.

    Used only to measure how alike two labels look (fuzzy step); which labels
    are the same is decided by THE label normaliser,
    :func:`processmining.bpmn.labels.normalise_label` (trim, collapse
    whitespace, case-fold), as everywhere else.

    >>> normalize_label("  Waiting For-Customer ")
    'waiting for customer'
    """
    return _SPACE.sub(" ", _PUNCT.sub(" ", str(label).casefold())).strip()


#: a label's object prefix or code: ``O_``, ``A_``, ``W_`` (BPIC 2012), ``SR-``, ``2.``: up to 3 letters/digits
#: then a separator
_PREFIX = re.compile(r"^\s*([A-Za-z0-9]{1,3})[_\-:./]\s*(?=\S)")


def _structure(label: str) -> tuple[str | None, list[str]]:
    """``(prefix code, tokens)`` of a label: what names the object, and the words."""
    m = _PREFIX.match(label)
    prefix = m.group(1).casefold() if m else None
    rest = label[m.end():] if m else label
    return prefix, normalize_label(rest).split()


#: word prefixes that turn a label into its opposite (``Incomplete`` / ``Complete``, ``Unpaid`` / ``Paid``)
NEGATION_PREFIXES = ("non", "not", "un", "in", "im", "dis")
#: words that negate the next one (``Not approved`` / ``Approved``)
NEGATION_WORDS = frozenset({"not", "non", "no"})
#: a label this short (after trimming) is a code, not a word: ``s`` and ``S`` are two activities
SHORT_CODE_LENGTH = 3


def case_distinct_codes(a: str, b: str) -> bool:
    """True for two short codes that differ only in letter case (``s`` / ``S``, ``Ab`` / ``AB``).

    A misspelt word is a typo; a case difference of a one-to-three character
    code is how such logs name different activities (the a22 benchmark has
    ``s`` and ``S``, ``e`` and ``E``), so it is never a merge suggestion.
    """
    x, y = str(a).strip(), str(b).strip()
    return x != y and len(x) <= SHORT_CODE_LENGTH and " " not in x and x.casefold() == y.casefold()


def _negation(x: list[str], y: list[str]) -> bool:
    """True when token list ``x`` is ``y`` negated: one extra ``not``/``non``/``no`` word, or one word with a
    negation prefix (``incomplete`` = ``in`` + ``complete``)."""
    if len(x) == len(y) + 1:
        return any(x[i] in NEGATION_WORDS and x[:i] + x[i + 1:] == y for i in range(len(x)))
    if len(x) != len(y):
        return False
    diff = [(u, v) for u, v in zip(x, y, strict=True) if u != v]
    return len(diff) == 1 and len(diff[0][1]) >= 3 and any(diff[0][0] == p + diff[0][1] for p in NEGATION_PREFIXES)


def different_objects(a: str, b: str) -> bool:
    """True when two look-alike labels name different things by their structure, so they must never be merged.

    Different prefix codes (``O_DECLINED`` an offer, ``A_DECLINED`` an
    application), different numbers (``1st Line`` / ``2nd Line``), or labels
    that differ in a whole short token (``Call A`` / ``Call B``, ``Step 1a`` /
    ``Step 1b``) are different objects, however similar the text; a misspelling
    changes letters inside a word (``Wating`` / ``Waiting``).

    A negation (``SRM: Incomplete`` / ``SRM: Complete``, ``Not approved`` /
    ``Approved``: prefixes in/un/non/not/im/dis) is the opposite meaning, and
    short codes that differ only in case (``s`` / ``S``) are two activities.

    >>> different_objects("O_DECLINED", "A_DECLINED"), different_objects("Wating for Customer", "Waiting for Customer")
    (True, False)
    >>> different_objects("SRM: Incomplete", "SRM: Complete"), different_objects("s", "S")
    (True, True)
    """
    if case_distinct_codes(a, b):
        return True
    pa, ta = _structure(a)
    pb, tb = _structure(b)
    if _negation(ta, tb) or _negation(tb, ta):
        return True
    if (pa or pb) and pa != pb:
        return True
    if _DIGITS.findall(a) != _DIGITS.findall(b):
        return True
    if len(ta) == len(tb):
        diff = [(x, y) for x, y in zip(ta, tb, strict=True) if x != y]
        if diff and all(len(x) <= 3 or len(y) <= 3 for x, y in diff):
            return True
    return False


def _similarity_matrix(queries: list[str], choices: list[str]) -> np.ndarray:
    """Levenshtein-based similarity 0-100 of every query against every choice."""
    try:
        from rapidfuzz import fuzz, process
    except ImportError:  # optional speed-up; difflib gives the same ratio definition
        import difflib

        return np.array([[round(100 * difflib.SequenceMatcher(None, q, c).ratio()) for c in choices]
                         for q in queries[:500]] or np.zeros((0, len(choices))), dtype=np.uint8)
    return process.cdist(queries, choices, scorer=fuzz.ratio, dtype=np.uint8)


def synonym_mapping(counts: pd.Series, config: QualityConfig) -> tuple[dict[str, str], dict[str, str]]:
    """Which label should become which, from label frequencies (``value_counts()`` of the activity).

    Returns ``(mapping, reason)``: ``mapping[label] = canonical label`` for
    every label that is a variant of a more frequent one; ``reason[label]``
    says why ("same after normalising case/whitespace/punctuation" or
    "similarity 0.95 to ..."). Labels whose digits differ ("1st Line" / "2nd
    Line") are never merged.
    """
    names = [str(v) for v in counts.index.tolist()]  # plain Python strings: iterating Arrow arrays is slow
    labels = pd.DataFrame({"label": pd.array(names, dtype=object), "events": counts.to_numpy()})
    labels["key"] = pd.array([normalise_label(v) for v in names], dtype=object)  # THE label normaliser
    labels["fuzzy"] = pd.array([normalize_label(v) for v in names], dtype=object)
    labels = labels.sort_values(["events", "label"], ascending=[False, True], kind="stable")
    mapping: dict[str, str] = {}
    reason: dict[str, str] = {}
    # 1. identical after normalising: the most frequent spelling wins
    canonical_of_key = dict(labels.drop_duplicates("key")[["key", "label"]].itertuples(index=False, name=None))
    label_list, key_list = labels["label"].tolist(), labels["key"].tolist()
    for label, key in zip(label_list, key_list, strict=True):
        if canonical_of_key[key] != label and not case_distinct_codes(label, canonical_of_key[key]):
            mapping[label] = canonical_of_key[key]
            reason[label] = "same after trimming and case-folding"
    # 2. small edit distance between similarity keys: a rare key resembles a much more frequent one,
    #    unless the labels' structure says they name different objects
    canonical_of_fuzzy = dict(labels.drop_duplicates("fuzzy")[["fuzzy", "label"]].itertuples(index=False, name=None))
    fuzzy_list = labels["fuzzy"].tolist()
    for label, fz in zip(label_list, fuzzy_list, strict=True):  # punctuation-only differences
        canon = canonical_of_fuzzy[fz]
        if label not in mapping and canon != label and mapping.get(canon, canon) != label \
                and not different_objects(label, canon):
            mapping[label] = mapping.get(canon, canon)
            reason[label] = "same after normalising case, whitespace and punctuation"
    keys = labels.groupby("fuzzy", sort=False)["events"].sum().sort_values(ascending=False, kind="stable")
    keys = keys[keys.index.str.len() >= config.label_min_length]
    if len(keys) >= 2:
        choices = keys.head(_MAX_CHOICES)
        # only keys whose digits occur in some choice can match ("call 48213" never matches "call 50112")
        signature = [" ".join(_DIGITS.findall(k)) for k in keys.index.tolist()]
        allowed = set(signature[: len(choices)])
        queries = keys[np.fromiter((sig in allowed for sig in signature), dtype=bool, count=len(signature))]
        queries = queries.iloc[-_MAX_QUERIES:] if len(queries) > _MAX_QUERIES else queries
        sim = _similarity_matrix(queries.index.tolist(), choices.index.tolist())
        cutoff = round(100 * config.label_similarity)
        q_freq = queries.to_numpy()[: sim.shape[0], None]
        ok = (sim >= cutoff) & (q_freq <= config.label_rare_ratio * choices.to_numpy()[None, :])
        key_target: dict[str, tuple[str, int]] = {}
        for qi, ci in zip(*np.nonzero(ok), strict=True):
            q, c = queries.index[qi], choices.index[ci]
            if _DIGITS.findall(q) != _DIGITS.findall(c) or different_objects(canonical_of_fuzzy[q],
                                                                              canonical_of_fuzzy[c]):
                continue
            if q not in key_target or sim[qi, ci] > key_target[q][1]:
                key_target[q] = (c, int(sim[qi, ci]))
        for q in list(key_target):  # follow chains a -> b -> c to the most frequent key
            seen = {q}
            target, score = key_target[q]
            while target in key_target and target not in seen:
                seen.add(target)
                target = key_target[target][0]
            key_target[q] = (target, score)
        for label, fz in zip(label_list, fuzzy_list, strict=True):
            if fz in key_target:
                target, score = key_target[fz]
                canon = canonical_of_fuzzy[target]
                mapping[label] = mapping.get(canon, canon)
                if label == mapping[label]:
                    del mapping[label]
                    continue
                if score == 100:
                    reason[label] = "same after normalising case, whitespace and punctuation"
                else:
                    reason[label] = f"similarity {score / 100:.2f} to {canon!r}"
    return mapping, reason


def synonymous_labels(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Labels that differ only in case, whitespace or punctuation, or are near-misspellings of a frequent one.

    ``details["mapping"]`` is the label -> canonical label mapping that
    :func:`processmining.quality.merge_synonymous_labels` applies.
    """
    counts = value_counts(log, ACTIVITY)
    mapping, reason = synonym_mapping(counts, config)
    if not mapping:
        return []
    variant_mask = value_mask(log, ACTIVITY, mapping)
    n = int(variant_mask.sum())
    examples = pd.DataFrame({
        "label": list(mapping),
        "canonical": list(mapping.values()),
        "events": [int(counts[k]) for k in mapping],
        "canonical events": [int(counts[v]) for v in mapping.values()],
        "reason": [reason[k] for k in mapping],
    }).sort_values(["canonical", "events"], ascending=[True, False], kind="stable")
    return [make_finding(
        check="synonymous_labels", dimension="labels", severity="high",
        title=f"{count_noun(len(mapping), 'label variant')} of {count_noun(len(set(mapping.values())), 'label')} "
              f"({count_noun(n, 'event')})",
        count=n, case_ids=log.df.loc[variant_mask, CASE], examples=examples, config=config,
        recommendation="Variants split one step into several activities on the map and hide it from rules and "
                       "models. Review the mapping and apply merge_synonymous_labels (CLI: --fix merge-labels).",
        details={"mapping": mapping, "labels": len(mapping)},
    )]


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_ID = re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{6,}\b")
_NUMBER = re.compile(r"\d{3,}")
_POLLUTION: Mapping[str, re.Pattern[str]] = {
    "e-mail": _EMAIL, "url": _URL, "uuid": _UUID, "id": _ID, "number": _NUMBER,
}


def label_template(label: str) -> tuple[str, list[str]]:
    """The label with embedded e-mails, URLs, ids and numbers replaced by placeholders, and what was found.

    >>> label_template("Call 48213")
    ('Call <number>', ['number'])
    """
    found: list[str] = []
    out = str(label)
    for kind, pattern in _POLLUTION.items():
        out, n = pattern.subn(f"<{kind}>", out)
        if n:
            found.append(kind)
    return out, found


#: a first word followed by at least this many different rare remainders is a "<prefix> <text>" family
_FAMILY_MIN_LABELS = 5


def _free_text_families(labels: list[str], events: list[int], taken: set[str]) -> list[tuple[str, str, str, int]]:
    """Labels "<first word> <free text>" where one first word has many different, rare continuations.

    "Call John Smith", "Call Mary Jones", ... (names or subjects typed into the
    activity) share the first word; a family needs at least
    ``_FAMILY_MIN_LABELS`` multi-word members, none carrying half of the
    family's events (so "Closed Won" / "Closed Lost" is not a family).
    """
    families: dict[str, list[tuple[str, int]]] = {}
    for label, n in zip(labels, events, strict=True):
        words = label.split(maxsplit=1)
        if len(words) == 2 and label not in taken:
            families.setdefault(words[0], []).append((label, n))
    rows = []
    for word, members in families.items():
        total = sum(n for _, n in members)
        if len(members) >= _FAMILY_MIN_LABELS and max(n for _, n in members) < 0.5 * total:
            rows += [(label, f"{word} <text>", "free text", n) for label, n in members]
    return rows


def polluted_labels(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Activity labels that embed e-mail addresses, URLs, ids, numbers or free text ("Call 48213", "Call Ann Lee").

    Free text is recognised as a family of labels that share their first word
    and continue differently, each rarely (see :func:`_free_text_families`).
    """
    counts = value_counts(log, ACTIVITY)
    rows = []
    for label, events in counts.items():  # distinct labels only
        template, kinds = label_template(str(label))
        if kinds:
            rows.append((str(label), template, ", ".join(kinds), int(events)))
    rows += _free_text_families(counts.index.tolist(), counts.tolist(), {r[0] for r in rows})
    if not rows:
        return []
    found = pd.DataFrame(rows, columns=["label", "template", "embeds", "events"])
    templates = found.groupby("template", sort=False).agg(labels=("label", "size"), events=("events", "sum"))
    templates = templates.sort_values("events", ascending=False).reset_index()
    mask = value_mask(log, ACTIVITY, found["label"].tolist())
    n = int(mask.sum())
    return [make_finding(
        check="polluted_labels", dimension="labels", severity="medium",
        title=f"{count_noun(len(found), 'label')} embedding ids, numbers, e-mail addresses or free text "
              f"({count_noun(n, 'event')}, {count_noun(len(templates), 'pattern')})",
        count=n, case_ids=log.df.loc[mask, CASE], examples=found.sort_values("events", ascending=False),
        config=config,
        recommendation="The activity column carries case data. Map each pattern to one activity (replace the "
                       "id/number by nothing) and keep the value as an event attribute.",
        details={"templates": dict(zip(templates["template"], templates["labels"].astype(int), strict=True))},
    )]


def high_cardinality_activities(log: EventLog, config: QualityConfig) -> list[Finding]:
    """More distinct activities than ``config.max_activities``: free text or ids in the activity column."""
    counts = value_counts(log, ACTIVITY)
    if len(counts) <= config.max_activities:
        return []
    rare = counts[counts == 1]
    first_word = pd.Series(counts.index.astype(str), dtype="object").str.split().str[0].fillna("")
    groups = pd.DataFrame({"first word": first_word.to_numpy(), "events": counts.to_numpy()}).groupby(
        "first word").agg(labels=("events", "size"), events=("events", "sum")).sort_values(
        "labels", ascending=False).reset_index()
    mask = value_mask(log, ACTIVITY, rare.index.tolist())
    return [make_finding(
        check="high_cardinality_activities", dimension="labels", severity="medium",
        title=f"{len(counts):,} distinct activities (more than {config.max_activities:,}); "
              f"{len(rare):,} occur only once",
        count=len(counts), case_ids=log.df.loc[mask, CASE], examples=groups, config=config,
        recommendation="A process map with this many activities is unreadable. Check that the activity column "
                       "is a stage/status field, not a subject line; group labels by their first word.",
        details={"distinct": len(counts), "singletons": len(rare)},
    )]


CHECKS = (synonymous_labels, polluted_labels, high_cardinality_activities)
