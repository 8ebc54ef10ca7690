"""One fact in one place: an interface's wire name is written only in apps/protocol/names.py."""

from __future__ import annotations

import ast
from pathlib import Path

from apps.protocol.names import Interface

APPS = Path(__file__).resolve().parents[2] / "apps"


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = {member.value for member in Interface}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names]  # fmt: skip


def test_no_interface_name_is_written_outside_the_protocol_package():
    # Migrations are generated (their choices are frozen copies of the enum), so they are not counted.
    files = [p for p in APPS.rglob("*.py") if "migrations" not in p.parts and not p.is_relative_to(APPS / "protocol")]
    assert len(files) > 100  # the walk found the apps
    found = [f"{path.relative_to(APPS)}:{line}: {value}" for path in files for line, value in _literals(path)]
    assert not found, "use apps.protocol.names.Interface:\n" + "\n".join(found)


def test_the_check_finds_a_literal():
    sample = APPS / "protocol" / "names.py"
    assert "query_token" in {value for _, value in _literals(sample)}
