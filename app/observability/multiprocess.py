"""Metrics of several server processes (``COMMITMENTS_WORKERS`` > 1): prometheus-client's
multiprocess mode, in a directory of its own for the life of ``commitments serve``.

Each uvicorn worker is a new process that imports the app (and prometheus-client) afresh, so the
variable set here before they start makes every one of them write its values into the directory,
and a scrape of ``/metrics`` answered by any of them reads them all. The directory is made empty
and removed at exit, as prometheus-client requires (stale files would count old processes). An
operator's own ``PROMETHEUS_MULTIPROC_DIR`` is used as it is (then emptying it before a start is
the operator's job). Without a writable temporary folder (a read-only root filesystem and no
tmpfs on /tmp) the server still starts, and says that each worker then counts alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

from app.observability.http import MULTIPROC_ENV


@contextlib.contextmanager
def shared_metrics_dir(workers: int) -> Iterator[str | None]:
    """Around ``uvicorn.run``: with several workers, a fresh multiprocess directory (its path)."""
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield os.environ.get(MULTIPROC_ENV)
        return
    try:
        folder = tempfile.TemporaryDirectory(prefix="commitments-metrics-")
    except OSError as exc:  # a read-only filesystem without a writable /tmp: serve all the same
        print(f"warning: no writable temporary folder for the workers' metrics ({exc.strerror or exc}): "
              f"each worker's /metrics counts only its own requests; mount a tmpfs on /tmp or set "
              f"{MULTIPROC_ENV} to a writable, empty folder", file=sys.stderr, flush=True)
        yield None
        return
    with folder as path:
        os.environ[MULTIPROC_ENV] = path
        try:
            yield path
        finally:
            os.environ.pop(MULTIPROC_ENV, None)
