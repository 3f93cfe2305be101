"""The mypyc build of the cancel path (tools/compile.py) is used only while it matches its sources."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ordergate
from ordergate import _compiled_build_is_current

_spec = importlib.util.spec_from_file_location("compile_tool", Path(__file__).parents[1] / "tools" / "compile.py")
assert _spec is not None and _spec.loader is not None
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


def _imported_from(env_extra: dict[str, str]) -> tuple[str, str]:
    """Where a fresh interpreter imports two compiled modules from (their files), and what it warned."""
    env = {k: v for k, v in os.environ.items() if k != "ORDERGATE_PURE"} | env_extra
    probe = "import ordergate.api.hot as hot, ordergate.venues.transport as t; print(hot.__file__); print(t.__file__)"
    done = subprocess.run([sys.executable, "-W", "default", "-c", probe], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_the_build_records_every_compiled_source() -> None:
    package = Path(ordergate.__file__).parent
    assert all((package / name).is_file() for name in build.COMPILED)
    if not build.STAMP.exists():
        pytest.skip("no mypyc build here (tools/compile.py found no C compiler)")
    assert set(json.loads(build.STAMP.read_text())["sources"]) == set(build.COMPILED)
    assert _compiled_build_is_current(package)


def test_a_current_build_is_imported_and_pure_mode_imports_the_sources() -> None:
    if not build.STAMP.exists():
        pytest.skip("no mypyc build here (tools/compile.py found no C compiler)")
    compiled, _ = _imported_from({})
    assert [line.rsplit(".", 1)[-1] for line in compiled.split()] == ["so", "so"]
    sources, warned = _imported_from({"ORDERGATE_PURE": "1"})
    assert [line.rsplit(".", 1)[-1] for line in sources.split()] == ["py", "py"]
    assert "changed since" not in warned  # asked for, so nothing to warn about


def test_a_source_edited_after_the_build_makes_the_build_stale(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    hot = tmp_path / "api" / "hot.py"
    hot.write_text("x = 1\n")
    digest = hashlib.sha256(hot.read_bytes()).hexdigest()
    (tmp_path / "_compiled.json").write_text(json.dumps({"sources": {"api/hot.py": digest}}))
    assert _compiled_build_is_current(tmp_path)
    hot.write_text("x = 2\n")
    assert not _compiled_build_is_current(tmp_path)
    hot.unlink()
    assert not _compiled_build_is_current(tmp_path)
    (tmp_path / "_compiled.json").write_text("{not json")
    assert not _compiled_build_is_current(tmp_path)
    (tmp_path / "_compiled.json").write_text("{}\n")  # what a build writes first: cut short, it is not current
    assert not _compiled_build_is_current(tmp_path)
    (tmp_path / "_compiled.json").unlink()
    assert _compiled_build_is_current(tmp_path)  # no build at all: the sources are what is imported anyway


def test_a_stale_build_is_passed_over_with_a_warning(tmp_path: Path) -> None:
    """A copy of the package whose record no longer matches: every module comes from its .py file."""
    if not build.STAMP.exists():
        pytest.skip("no mypyc build here (tools/compile.py found no C compiler)")
    src = tmp_path / "src"
    package = Path(ordergate.__file__).parent
    shutil.copytree(package, src / "ordergate", ignore=shutil.ignore_patterns("__pycache__"))
    for shared in package.parent.glob("*__mypyc*.so"):
        (src / shared.name).symlink_to(shared)
    hot = src / "ordergate" / "api" / "hot.py"
    hot.write_text(hot.read_text() + "\n# edited after the build\n")
    out, warned = _imported_from({"PYTHONPATH": str(src)})
    assert [line.rsplit(".", 1)[-1] for line in out.split()] == ["py", "py"]
    assert all(line.startswith(str(src)) for line in out.split())
    assert "sources changed since its mypyc build" in warned
