"""`ordergate serve` as a real process, with this checkout's code whatever the working directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.test_readme import _free_port, _wait_healthy, running

SRC = str(Path(__file__).parents[2] / "src")


@contextmanager
def serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[int]:
    port = _free_port()
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    with running(["serve", "--port", str(port), *args], tmp_path, {"PYTHONPATH": path, **(env or {})}) as proc:
        _wait_healthy(port, proc)
        yield port
