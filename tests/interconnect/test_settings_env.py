"""Settings read from the environment as an operator of the portal would set them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hlht_portal import local_state

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SECRET_KEY, s.HLHT_SECRET_KEYS, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.DEBUG, "
    "s.HLHT_CLOCK_SKEW, s.DATABASES['default']['ENGINE']]))"
)


def _env(tmp_path, **values) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hlht_portal.settings", "HLHT_VAR_DIR": str(tmp_path), **values}
    env.pop("DATABASE_URL", None)
    return env


def _settings(tmp_path, **values) -> list:
    env = _env(tmp_path, **values)
    # `make var` first, as every make target that starts the portal does: importing the settings writes nothing.
    subprocess.run([sys.executable, "-m", "hlht_portal.local_state"], cwd=ROOT, env=env, timeout=60, check=True)
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


def test_loading_the_settings_writes_nothing(tmp_path):
    var = tmp_path / "var"
    env = _env(var, SECRET_KEY="set-by-the-operator", CELERY_BROKER_URL="filesystem://")
    subprocess.run([sys.executable, "-c", PRINT], cwd=ROOT, env=env, capture_output=True, timeout=60, check=True)
    assert not var.exists()


def test_without_a_key_the_settings_say_how_to_make_one(tmp_path):
    env = _env(tmp_path)
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "make var" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_prepare_makes_the_key_once_and_the_broker_folders(tmp_path):
    var = tmp_path / "var"
    made = local_state.prepare(var, secret_key=True, broker_folders=True)
    key = (var / "secret_key").read_text()
    assert len(key) > 50 and (var / "secret_key").stat().st_mode & 0o777 == 0o600
    assert all((var / folder).is_dir() for folder in local_state.BROKER_FOLDERS) and var / "secret_key" in made
    assert local_state.prepare(var, secret_key=True, broker_folders=True) == []  # idempotent: the key is kept
    assert (var / "secret_key").read_text() == key == local_state.stored_secret_key(var)
