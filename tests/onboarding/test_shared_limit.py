"""A shared cache: with CACHE_URL on Redis (CI), two processes (two gunicorn workers, say) count the same /apply/ limit;
without it each process has its own (the embedded default, enough for `make run`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# One process's attempts: invalid forms (no name), so nothing is written; the limit is counted before validation.
POST = (
    "import django, json, sys; django.setup(); from django.test import Client; "
    "client = Client(REMOTE_ADDR=sys.argv[1]); "
    "print(json.dumps([client.post('/apply/', {'legal_name': ''}).status_code for _ in range(int(sys.argv[2]))]))"
)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _process(address: str, attempts: int, **env: str) -> list[int]:
    inherited = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}  # the cache is what the test says
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "hlht_portal.settings", "DATABASE_URL": _database_url(),
           "ALLOWED_HOSTS": "testserver", "HLHT_APPLY_PER_HOUR": "3", **env}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", POST, address, str(attempts)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _shared_cache_url(tmp_path: Path) -> str:
    """The broker's Redis where there is one (CI, production-like runs); a directory cache shared by the processes
    otherwise (the embedded `make test` has no Redis): either way the processes share CACHE_URL's cache."""
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("redis://"):
        return broker
    return f"filecache://{tmp_path}/cache"


@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_apply_limit_through_the_cache_url(tmp_path):
    address = f"test-{uuid.uuid4().hex}"  # this run's own client address: nothing an earlier run counted is seen
    cache_url = _shared_cache_url(tmp_path)
    first = _process(address, 2, CACHE_URL=cache_url)
    second = _process(address, 2, CACHE_URL=cache_url)
    assert first == [400, 400]
    assert second == [400, 429]  # the third attempt was counted by the first process's


@pytest.mark.django_db(transaction=True)
def test_without_cache_url_each_process_counts_alone():
    address = f"test-{uuid.uuid4().hex}"
    first, second = _process(address, 2), _process(address, 2)
    assert first == second == [400, 400]
