"""Run alignments for every variant: in-process first, then across cores, each within a time budget."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..model import ProgressFn, no_progress
from .alignment import AlignmentResult, CompiledNet, _align_batch, _init_worker, align

#: work done in-process before a process pool is worth starting (spawned workers cost ~0.5 s each)
SERIAL_BUDGET_S = 2.0


def align_variants(
    net: CompiledNet,
    traces: Sequence[tuple[str, ...]],
    *,
    variant_timeout_s: float = 10.0,
    processes: int | None = None,
    prefix: Sequence[bool] | None = None,
    deadline: float | None = None,
    stats: dict[str, int] | None = None,
    progress: ProgressFn = no_progress,
) -> list[AlignmentResult | None]:
    """One optimal alignment per trace (``None``: over the time budget, reported as not computed).

    Variants run in-process while they are cheap; if after
    :data:`SERIAL_BUDGET_S` seconds work remains and ``processes`` allows more
    than one, the rest goes to a spawn-safe :class:`ProcessPoolExecutor`
    (each worker receives the compiled net once). ``processes=1`` never
    starts a pool. ``prefix[v]`` aligns trace ``v`` as a running case (it may
    stop anywhere the model can still finish). ``deadline`` (a
    ``time.perf_counter()`` value) ends all of the work: variants not
    aligned by then are ``None``. ``stats``, when given, receives how many
    variants ran in-process and in the pool, and the pool's size.
    """
    n = len(traces)
    results: list[AlignmentResult | None] = [None] * n
    pref = list(prefix) if prefix is not None else [False] * n
    # longest first: the expensive ones start early and the progress bar is honest
    order = sorted(range(n), key=lambda v: -len(traces[v]))
    workers = processes if processes is not None else (os.cpu_count() or 1)
    started = time.perf_counter()
    done = 0
    progress(0, n, "aligning variants")
    k = 0
    if stats is not None:
        stats.update(in_process=0, pool=0, workers=0)
    while k < n and (workers <= 1 or time.perf_counter() - started < SERIAL_BUDGET_S):
        if deadline is not None and time.perf_counter() >= deadline:
            return results
        v = order[k]
        results[v] = align(net, traces[v], timeout_s=_budget(variant_timeout_s, deadline), prefix=pref[v])
        k += 1
        done += 1
        progress(done, n, "aligning variants")
    if stats is not None:
        stats["in_process"] = k
    rest = order[k:]
    if not rest:
        return results
    # small batches keep every core busy while amortising inter-process traffic
    size = max(1, min(64, len(rest) // (workers * 8) or 1))
    batches = [[(v, traces[v], pref[v]) for v in rest[i : i + size]] for i in range(0, len(rest), size)]
    ctx = multiprocessing.get_context("spawn")
    n_workers = min(workers, len(batches))
    if stats is not None:
        stats.update(pool=len(rest), workers=n_workers)
    pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=_init_worker, initargs=(net,))
    try:
        pending = {pool.submit(_align_batch, batch, variant_timeout_s, deadline) for batch in batches}
        while pending:
            left = None if deadline is None else max(0.0, deadline - time.perf_counter()) + 1.0
            finished, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
            if not finished:  # the budget is over: what is still queued stays not computed
                for fut in pending:
                    fut.cancel()
                break
            for fut in finished:
                for v, res in fut.result():
                    results[v] = res
                    done += 1
            progress(done, n, "aligning variants")
    except BaseException:  # cancelled (e.g. the progress callback raised: the app's Cancel): stop, never wait
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _budget(variant_timeout_s: float, deadline: float | None) -> float:
    if deadline is None:
        return variant_timeout_s
    return max(0.001, min(variant_timeout_s, deadline - time.perf_counter()))
