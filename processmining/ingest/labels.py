"""Unicode hygiene of labels: one spelling per activity / resource, and a report of every change.

Two labels that look the same can differ in their bytes: a composed ``é``
(NFC) and ``e`` + combining accent (NFD, what macOS file names and some
exports produce), or an invisible zero-width space / direction mark pasted
from a web page. Each such pair would be two activities on the map. Activity
and resource labels are therefore normalised to NFC with invisible format
characters removed, and the ingest report says how many values changed,
with an example. Case ids are never changed (an id is an identifier, not a
label); ids that differ only in this way are reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: zero-width characters, the byte-order mark and the bidirectional formatting marks
INVISIBLE = "[\u200b\u200c\u200d\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"


def _clean(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.replace_substring_regex(pc.utf8_normalize(arr, "NFC"), INVISIBLE, "")


def normalise_labels(values: pd.Series, what: str) -> tuple[pd.Series, str | None]:
    """``values`` (text) in NFC without invisible marks, and a report line when anything changed.

    >>> s, note = normalise_labels(pd.Series(["Approve", "Approve\u200b", "Cafe\u0301"], dtype="string"), "activity")
    >>> s.tolist()
    ['Approve', 'Approve', 'Café']
    """
    text = values if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow" else \
        values.astype(pd.StringDtype("pyarrow"))
    arr = text.array.__arrow_array__()
    if arr.num_chunks == 0 or len(arr) == 0:
        return values, None
    encoded = pc.dictionary_encode(arr).combine_chunks()
    dictionary = encoded.dictionary
    cleaned = _clean(dictionary)
    changed = pc.not_equal(dictionary, cleaned).fill_null(False)
    if not pc.any(changed).as_py():
        return values, None
    indices = encoded.indices
    counts = pc.value_counts(indices)
    per_code = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    changed_codes = [i for i, c in enumerate(changed.to_pylist()) if c]
    n_values = sum(per_code.get(i, 0) for i in changed_codes)
    before = dictionary.take(pa.array(changed_codes)).to_pylist()
    after = cleaned.take(pa.array(changed_codes)).to_pylist()
    example = f"{ascii(before[0])} → {after[0]!r}"
    merged = len(dictionary) - len(pc.unique(cleaned))
    out = pd.Series(pd.arrays.ArrowStringArray(pc.take(cleaned, indices)), index=values.index,
                    dtype=pd.StringDtype("pyarrow"))
    note = (f"{n_values:,} {what} values were normalised (Unicode NFC, invisible zero-width or direction marks "
            f"removed), e.g. {example}" + (f"; {merged:,} labels that only looked alike are now one" if merged else ""))
    return out, note


def normalise_dictionary(dictionary: pa.Array, codes: np.ndarray, what: str) -> tuple[pa.Array, np.ndarray, str | None]:
    """:func:`normalise_labels` on a dictionary-encoded column: ``(dictionary, codes, note)`` after normalising.

    ``codes`` index ``dictionary`` (-1 for NA). Labels that become equal get
    one code; the note counts the values changed, as :func:`normalise_labels`
    says it (with its example: the first changed label in dictionary order).
    """
    if len(dictionary) == 0:
        return dictionary, codes, None
    cleaned = _clean(dictionary)
    changed = pc.not_equal(dictionary, cleaned).fill_null(False).to_numpy(zero_copy_only=False)
    if not changed.any():
        return dictionary, codes, None
    per_code = np.bincount(codes[codes >= 0], minlength=len(dictionary))
    n_values = int(per_code[changed].sum())
    first = int(np.flatnonzero(changed)[0])
    example = f"{ascii(dictionary[first].as_py())} → {cleaned[first].as_py()!r}"
    merged_enc = pc.dictionary_encode(cleaned)
    merged = len(dictionary) - len(merged_enc.dictionary)
    remap = merged_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    new_codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    note = (f"{n_values:,} {what} values were normalised (Unicode NFC, invisible zero-width or direction marks "
            f"removed), e.g. {example}" + (f"; {merged:,} labels that only looked alike are now one" if merged else ""))
    return merged_enc.dictionary, new_codes, note


def flag_ids(values: pd.Series, what: str = "case id") -> str | None:
    """A report line when some ids differ from another id only by Unicode form or invisible marks (kept as is)."""
    text = values.astype(pd.StringDtype("pyarrow"))
    return flag_distinct_ids(pc.unique(text.array.__arrow_array__()), what)


def flag_distinct_ids(dictionary: pa.Array, what: str = "case id") -> str | None:
    """:func:`flag_ids` on the distinct ids of a column (its dictionary)."""
    cleaned = _clean(dictionary)
    n_before, n_after = len(dictionary), len(pc.unique(cleaned))
    if n_after == n_before:
        return None
    return (f"{n_before - n_after:,} {what}s differ from another {what} only by Unicode form or invisible "
            "zero-width / direction marks; they are kept apart as written (check the export)")
