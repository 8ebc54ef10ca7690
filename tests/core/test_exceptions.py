"""A field error names its field once: ValidationFailed writes `field: message`, so no raise site writes it too."""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.core.exceptions import ValidationFailed

APPS = Path(__file__).resolve().parents[2] / "apps"


def _leading_text(node: ast.expr) -> str:
    """The literal start of a message argument (a string or an f-string's first constant part)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        if isinstance(first, ast.FormattedValue) and isinstance(first.value, ast.Name):
            return (
                "{" + first.value.id + "}" + (_leading_text(ast.JoinedStr(node.values[1:])) if node.values[1:] else "")
            )
    return ""


def test_no_raise_site_writes_the_field_into_its_message():
    doubled = []
    for path in APPS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ValidationFailed" and node.args):
                continue
            field = next((k.value for k in node.keywords if k.arg == "field"), None)
            if field is None:
                continue
            name = field.value if isinstance(field, ast.Constant) else "{" + getattr(field, "id", "?") + "}"
            if _leading_text(node.args[0]).startswith(f"{name}: "):
                doubled.append(f"{path.relative_to(APPS.parent)}:{node.lineno}")
    assert doubled == []


def test_the_message_names_the_field_once():
    assert str(ValidationFailed("金额必须大于0", field="amount")) == "amount: 金额必须大于0"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [({"phone": "13812345678", "top_up": "0"}, "amount: 金额必须大于0"), ({"phone": "123"}, "phone: ")],
)
def test_the_driver_command_reports_a_field_error_once(options, message):
    with pytest.raises(CommandError) as caught:
        call_command("hlht_driver", stdout=StringIO(), **options)
    text = str(caught.value)
    assert text.startswith(message) and text.count(message.split(":")[0] + ":") == 1, text
