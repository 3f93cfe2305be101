"""Process-wide tuning applied by `ordergate serve` only (never to code that imports ordergate, nor to tests).

Garbage collection: with the default thresholds (700, 10, 10) a gateway under load runs a young-generation
collection every ~10 requests, and each one walks every object of the requests in flight; the full collections
walk the ~120k objects that FastAPI, pydantic, SQLAlchemy and aiohttp leave after import. Measured in-process at
concurrency 64, that was ~110 µs of CPU per cancel (bench/README.md). Freezing what exists after start-up moves
those long-lived objects out of every future collection, and a higher first threshold makes collections rare.
Reference cycles are still collected, only later; memory stays flat (the cold-accounts storm checks RSS).
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

GC_THRESHOLDS = (20_000, 10, 10)


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def worker_app() -> FastAPI:
    """The app factory `ordergate serve --workers N` hands to uvicorn: each worker tunes its own process."""
    from ordergate.app import create_app

    app = create_app()
    tune_gc()
    return app
