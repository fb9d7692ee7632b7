"""Thread pinning for numeric code on small machines.

numpy's BLAS, OpenMP and ``implicit`` each start their own pool; left alone on a 2-core box they
oversubscribe (e.g. implicit's workers each calling a multi-threaded BLAS). We size every pool
explicitly: BLAS gets all cores for big dense algebra, and one thread while implicit runs its own
per-core workers.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def cpu_count() -> int:
    """Cores this process may run on (respects CPU affinity / container limits)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def pin_env(n: int | None = None) -> None:
    """Set thread-count env vars; only effective if called before numpy loads its BLAS."""
    n = n or cpu_count()
    for var in _ENV_VARS:
        os.environ.setdefault(var, str(n))


@contextlib.contextmanager
def blas_threads(n: int | None = None) -> Iterator[None]:
    """Limit BLAS/OpenMP pools at run time (threadpoolctl if installed, else a no-op)."""
    n = n or cpu_count()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with implicit's deps here
        yield
        return
    with threadpool_limits(limits=n):
        yield
