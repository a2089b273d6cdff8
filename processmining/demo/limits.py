"""Ground truth of every limit the bundled rules and the presets' defaults use: who is over it, who is near it.

The generators plant durations exactly at, and a second / a minute / five
minutes under and over, each limit (:data:`~processmining.demo.clock.NEAR_LIMIT_OFFSETS`)
and let natural cases cross it too. These helpers say, from the exported times
alone and at the export time, which cases are over the limit and which are
near it (within :data:`~processmining.demo.clock.NEAR_LIMIT_S`), on which side.
Exactly at the limit is not over it (the limits read ``<=``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .clock import NEAR_LIMIT_S


def _near(ids: np.ndarray, dur: np.ndarray, limit_s: float, mask: np.ndarray, extra: dict[str, np.ndarray]
          ) -> dict[str, dict[str, Any]]:
    near = mask & (np.abs(dur - limit_s) <= NEAR_LIMIT_S)
    out: dict[str, dict[str, Any]] = {}
    for i in np.flatnonzero(near).tolist():
        d = round(float(dur[i]), 3)
        side = "over" if dur[i] > limit_s else "at" if dur[i] == limit_s else "under"
        out[str(ids[i])] = {"duration_s": int(d) if d == int(d) else d, "off_by_s": round(float(dur[i] - limit_s), 3),
                            "side": side, **{k: v[i].item() for k, v in extra.items()}}
    return {k: out[k] for k in sorted(out)}


def sla_truth(ids: np.ndarray, start_s: np.ndarray, end_s: np.ndarray, running: np.ndarray, *, limit_s: float,
              as_of_s: float, rule: str) -> dict[str, Any]:
    """One SLA: ``late`` (target reached after the limit), ``open`` (not reached, still running, already over
    the limit at the export), ``near_limit`` (case -> duration, signed distance to the limit, side, done).

    ``start_s`` NaN: the clock never started (not measured); ``end_s`` NaN: the target was not reached.
    """
    ids = np.asarray(ids, dtype=object)
    measured = ~np.isnan(start_s)
    done = measured & ~np.isnan(end_s)
    dur = np.where(done, end_s - start_s, as_of_s - start_s)
    late = done & (dur > limit_s)
    still_open = measured & ~done & running & (dur > limit_s)
    return {"rule": rule, "limit_s": limit_s, "late": sorted(ids[late].tolist()),
            "open": sorted(ids[still_open].tolist()),
            "near_limit": _near(ids, dur, limit_s, done | (measured & running), {"done": done})}


def idle_truth(ids: np.ndarray, last_s: np.ndarray, running: np.ndarray, *, limit_s: float, as_of_s: float,
               rule: str) -> dict[str, Any]:
    """One idle limit: ``stuck`` (running and no event for longer than the limit at the export) and the running
    cases ``near_limit``."""
    ids = np.asarray(ids, dtype=object)
    idle = as_of_s - last_s
    stuck = running & (idle > limit_s)
    return {"rule": rule, "limit_s": limit_s, "stuck": sorted(ids[stuck].tolist()),
            "near_limit": _near(ids, idle, limit_s, running, {})}
