"""ordergate: a self-hostable gateway speaking Mesh Connect's trading API."""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import warnings
from pathlib import Path

__version__ = "0.1.0"


class _SourcesOnly(importlib.abc.MetaPathFinder):
    """Finds ordergate's modules among their .py files only, passing over the compiled ones beside them."""

    def __init__(self) -> None:
        self._finders: dict[str, importlib.machinery.FileFinder] = {}

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(__name__ + ".") or not path:
            return None
        for entry in path:  # type: ignore[attr-defined]
            finder = self._finders.get(entry)
            if finder is None:
                loader = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
                finder = self._finders[entry] = importlib.machinery.FileFinder(entry, loader)
            spec = finder.find_spec(fullname, target)  # type: ignore[arg-type]
            if spec is not None:
                return spec
        return None


def _compiled_build_is_current(package: Path) -> bool:
    """True when the mypyc build (tools/compile.py) matches the sources it was made from, or there is none."""
    try:
        recorded = json.loads((package / "_compiled.json").read_text())["sources"]
    except FileNotFoundError:
        return True  # no build: the sources are what gets imported anyway
    except (OSError, ValueError, KeyError, TypeError):
        return False
    for name, digest in recorded.items():
        try:
            if hashlib.sha256((package / name).read_bytes()).hexdigest() != digest:
                return False
        except OSError:
            return False
    return True


# Compiled modules call each other directly, so a build is used whole or not at all: after an edit (or with
# ORDERGATE_PURE=1) every ordergate module comes from its source, never an older build of it.
if os.environ.get("ORDERGATE_PURE") == "1" or not _compiled_build_is_current(Path(__file__).resolve().parent):
    if os.environ.get("ORDERGATE_PURE") != "1":
        warnings.warn(
            "ordergate's sources changed since its mypyc build: running the sources (`make compile` rebuilds)",
            stacklevel=2,
        )
    sys.meta_path.insert(0, _SourcesOnly())
