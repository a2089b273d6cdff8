"""Report texts and formats per language: gettext ``.po`` catalogues (``locale/<lang>.po``) read with Babel.

Message ids are stable keys (``"h.scope"``, ``"rec.sla_breach"``); the English
text lives in ``en.po`` like every other language, so no sentence of the
report is written in code. Placeholders use ``{name}`` and are filled after
translation. Numbers, percentages and dates are formatted with Babel's CLDR
data for the language (``1 234,5`` in Polish, ``1 234,5`` in Russian).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import AnalysisError

LANGUAGES = ("en", "pl", "ru")
LOCALE_DIR = Path(__file__).with_name("locale")


@lru_cache(maxsize=8)
def catalogue(lang: str) -> dict[str, str]:
    """All messages of ``lang``: message id -> text (empty translations left out)."""
    from babel.messages.pofile import read_po

    if lang not in LANGUAGES:
        raise AnalysisError(f"--lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    with open(LOCALE_DIR / f"{lang}.po", "rb") as fh:
        cat = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


@dataclass(frozen=True)
class Texts:
    """Translate and format for one language: ``t("h.scope")``, ``num(1234.5)``, ``pct(0.25)``, ``dur(3600)``."""

    lang: str = "en"

    def t(self, msgid: str, **params: Any) -> str:
        """The text of ``msgid`` with ``{placeholders}`` filled; a missing id is an error (tests find them)."""
        text = catalogue(self.lang).get(msgid)
        if text is None:
            raise KeyError(f"message {msgid!r} missing from the {self.lang} catalogue")
        return text.format(**params) if params else text

    def has(self, msgid: str) -> bool:
        return msgid in catalogue(self.lang)

    def num(self, value: Any, digits: int = 0) -> str:
        from babel.numbers import format_decimal

        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=fmt, locale=self.lang)

    def pct(self, value: Any, digits: int = 1) -> str:
        from babel.numbers import format_percent

        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(value, format=fmt, locale=self.lang)

    def date(self, value: Any) -> str:
        from babel.dates import format_date

        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            return "–"
        d = pd.Timestamp(value).date() if not isinstance(value, dt.date) else value
        return format_date(d, format="medium", locale=self.lang)

    def datetime(self, value: Any) -> str:
        from babel.dates import format_datetime

        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return format_datetime(ts.to_pydatetime(), format="medium", tzinfo=dt.UTC, locale=self.lang) + " UTC"

    def dur(self, seconds: Any) -> str:
        """A duration in the largest sensible unit: ``3,5 d`` / ``4,0 h`` / ``12 min`` (units from the catalogue)."""
        if seconds is None or (isinstance(seconds, float) and not math.isfinite(seconds)):
            return "–"
        s = float(seconds)
        if abs(s) >= 86400:
            return f"{self.num(s / 86400, 1)} {self.t('unit.days')}"
        if abs(s) >= 3600:
            return f"{self.num(s / 3600, 1)} {self.t('unit.hours')}"
        return f"{self.num(s / 60, 0)} {self.t('unit.minutes')}"


__all__ = ["LANGUAGES", "LOCALE_DIR", "Texts", "catalogue"]
