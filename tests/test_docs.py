"""The README's generated tables are what the code says."""

from pathlib import Path

from ordergate.docs import render
from ordergate.domain.errors import CATALOGUE, ErrorType
from ordergate.venues.catalog import SPECS
from ordergate.venues.registry import ADAPTERS

README = Path(__file__).parents[1] / "README.md"


def test_readme_generated_blocks_are_current() -> None:
    text = README.read_text()
    assert render(text) == text, "run: .venv/bin/python -m ordergate.docs"


def test_catalogue_covers_every_error_type() -> None:
    assert set(CATALOGUE) == set(ErrorType)


def test_every_venue_claiming_cancel_has_an_adapter() -> None:
    assert len(SPECS) == 57
    for spec in SPECS.values():
        assert spec.cancel_supported == (spec.family in ADAPTERS), spec.type


def test_catalog_and_registry_dicts_name_each_key_once() -> None:
    """A dict literal with a repeated key silently keeps the last one: one venue's row could hide another's."""
    import ast

    root = Path(__file__).parents[1] / "src" / "ordergate" / "venues"
    for name in ("catalog.py", "registry.py"):
        tree = ast.parse((root / name).read_text())
        assigned = [
            t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
        ]
        assigned += [n.target.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
        assert len(assigned) == len(set(assigned)), (name, "assigned twice", assigned)
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = [ast.unparse(k) for k in node.keys if k is not None]
                assert len(keys) == len(set(keys)), (name, sorted({k for k in keys if keys.count(k) > 1}))
