"""Settings read from the environment as an operator of the portal would set them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SECRET_KEY, s.HLHT_SECRET_KEYS, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.DEBUG, "
    "s.HLHT_CLOCK_SKEW, s.DATABASES['default']['ENGINE']]))"
)


def _settings(tmp_path, **values) -> list:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hlht_portal.settings", "HLHT_VAR_DIR": str(tmp_path), **values}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_secrets_are_taken_as_written_even_with_a_leading_dollar(tmp_path):
    secret, keys = "$3cr3t-with-$-inside", " $first , second "
    got = _settings(tmp_path, SECRET_KEY=secret, HLHT_SECRET_KEYS=keys)
    assert got[0] == secret
    assert got[1] == ["$first", "second"]


def test_lists_are_stripped_and_empty_items_dropped(tmp_path):
    got = _settings(tmp_path, ALLOWED_HOSTS=" a.example , b.example,, ", CSRF_TRUSTED_ORIGINS="https://a.example ,")
    assert got[2] == ["a.example", "b.example"] and got[3] == ["https://a.example"]


def test_typed_values_and_the_embedded_database(tmp_path):
    got = _settings(tmp_path, DEBUG="yes", HLHT_CLOCK_SKEW="120")
    assert got[4] is True and got[5] == 120 and got[6] == "django.db.backends.sqlite3"
    assert (tmp_path / "secret_key").exists() and got[0] == (tmp_path / "secret_key").read_text().strip()
