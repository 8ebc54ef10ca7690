"""The README's settings tables and apps.core.conf agree: every setting documented, none unknown, the same defaults."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from apps.core.conf import setting_names

ROOT = Path(__file__).resolve().parents[2]
# Read by hlht_portal itself, not by the apps: where var/ is, and whether the portal sits behind a TLS proxy.
PROJECT_ONLY = {"HLHT_VAR_DIR", "HLHT_HTTPS"}
DEFAULTS = (
    "import django, json; django.setup(); from django.conf import settings; "
    "from apps.core.conf import setting_names; "
    "print(json.dumps({name: getattr(settings, name) for name in setting_names()}, default=str))"
)


def _rows() -> list[tuple[list[str], list[str]]]:
    """(setting names, their defaults) of every row of a `| setting |` or `| variable |` table naming HLHT_*."""
    rows = []
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `HLHT_") or len(cells) < 3:
            continue
        names = re.findall(r"`(HLHT_\w+)`", cells[0])
        defaults = [part.strip() for part in re.split(r" / |, ", cells[1])]
        rows.append((names, defaults if len(defaults) == len(names) else [cells[1]] * len(names)))
    return rows


def _documented() -> dict[str, str]:
    return {name: default for names, defaults in _rows() for name, default in zip(names, defaults, strict=True)}


def test_every_setting_is_documented_and_every_documented_one_exists():
    documented = set(_documented())
    assert sorted(set(setting_names()) - documented) == []  # missing from the README
    assert sorted(documented - set(setting_names()) - PROJECT_ONLY) == []  # documented, but no such setting


def _expected(text: str) -> object:
    """A README default as a value: `MA01HLHT0`, 7200, 0.01, 2 MiB, 7 days, off, empty; None: not a literal."""
    if text == "empty":
        return "empty"
    if text in ("off", "on"):
        return text == "on"
    if match := re.fullmatch(r"`([^`]+)`", text):
        return None if match[1] == "DEBUG" else match[1]
    if match := re.fullmatch(r"([\d.]+) (MiB|days)", text):
        return Decimal(match[1]) * (1024 * 1024 if match[2] == "MiB" else 86400)
    return Decimal(text) if re.fullmatch(r"[\d.]+", text) else None


@pytest.fixture(scope="module")
def defaults() -> dict[str, object]:
    """The settings as an environment that sets none of them gets them."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HLHT_")}
    env.update(DJANGO_SETTINGS_MODULE="hlht_portal.settings", SECRET_KEY="only-to-read-the-defaults")
    result = subprocess.run(
        [sys.executable, "-c", DEFAULTS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_documented_defaults_are_the_defaults(defaults):
    compared = 0
    for name, text in _documented().items():
        expected = _expected(text)
        if name in PROJECT_ONLY or expected is None:
            continue
        actual = defaults[name]
        if expected == "empty":
            assert actual in ([], {}, ""), name
        elif isinstance(expected, Decimal):
            assert Decimal(str(actual)) == expected, (name, text, actual)
        else:
            assert actual == expected, (name, text, actual)
        compared += 1
    assert compared >= len(setting_names()) - 3  # only a few defaults are not literals (`DEBUG`)
