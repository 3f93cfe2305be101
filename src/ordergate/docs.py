"""Generated README sections: the venue table and the errorType catalogue come from data, not by hand.

`python -m ordergate.docs` rewrites the marked blocks in README.md; tests/test_docs.py fails when they drift.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ordergate.api.openapi import error_catalogue_markdown
from ordergate.venues.base import VenueSpec
from ordergate.venues.catalog import SPECS


def venue_table() -> str:
    lines = [
        "| integration `type` | venue | cancel in ordergate | upstream requests per cancel | lists orders | oracle "
        "| Mesh lists cancel | required fields | order id, e.g. | credentials |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ordered = sorted(SPECS.values(), key=lambda s: (not s.cancel_supported, not s.mesh_cancel, s.type.value))
    for spec in ordered:
        required = ", ".join(f"`{f.value}`" for f in sorted(spec.required_fields)) or "—"
        creds = ", ".join(spec.credential_fields) or "—"
        lines.append(
            f"| `{spec.type.value}` | {spec.name} | {_cancel_cell(spec)} | "
            f"{spec.requests_per_cancel if spec.cancel_supported else '—'} | {_lists_cell(spec)} | "
            f"{spec.oracle or '—'} | "
            f"{'yes' if spec.mesh_cancel else 'no'} | {required} | "
            f"{f'`{spec.order_id.example}`' if spec.order_id else '—'} | {creds} |"
        )
    return "\n".join(lines)


def _lists_cell(spec: VenueSpec) -> str:
    if not spec.lists_orders:
        return "—"
    if not spec.lists_history:
        return "open orders only"
    notes = [f"history needs {', '.join(f'`{f.value}`' for f in sorted(spec.list_required_fields))}"]
    notes = notes if spec.list_required_fields else []
    if not spec.history_newest_first:
        notes.append("history pages oldest first")
    return f"yes ({'; '.join(notes)})" if notes else "yes"


def _cancel_cell(spec: VenueSpec) -> str:
    if spec.cancel_supported:
        return "**yes**"
    if spec.no_cancel_api:
        return "no public cancel API: `cancelNotSupported` says why"
    return "not yet"


def coverage() -> str:
    """The README's opening count, from the same data as the table."""
    working = [s for s in SPECS.values() if s.cancel_supported]
    venues = sorted({s.family for s in working if s.family})
    on_mesh = [s for s in SPECS.values() if s.mesh_cancel]
    names = ", ".join(sorted({s.name.split(" (")[0] for s in working}))
    return (
        f"{len(working)} integration types at {len(venues)} venues ({names}); "
        f"{sum(s.cancel_supported for s in on_mesh)} of the {len(on_mesh)} integrations on Mesh's cancel list cancel "
        f"here, and {sum(bool(s.no_cancel_api) for s in on_mesh)} more answer a typed `cancelNotSupported` because "
        "their institution has no public cancel API"
    )


BLOCKS = {"coverage": coverage, "venues": venue_table, "errors": error_catalogue_markdown}


def render(readme: str) -> str:
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(readme):
            raise ValueError(f"README lacks the <!-- generated:{name} --> block")
        readme = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), readme)
    return readme


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(render(path.read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
