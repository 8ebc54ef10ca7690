"""Multiprocess mode (README, Operations): processes sharing PROMETHEUS_MULTIPROC_DIR count into their own files
and /metrics, answered by yet another process, adds them up. Real processes: the mode is chosen at import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]

COUNT = (
    "import sys; from apps.core.metrics import exchange_observe, pull_finished\n"
    "for _ in range(int(sys.argv[1])): exchange_observe('notification_stationStatus', 0, 0.01, push_of='123456789')\n"
    "pull_finished('123456789', 'query_stations_info', failed=True)\n"
)
SCRAPE = (
    "import django; django.setup()\n"
    "from django.test import Client; from django.test.utils import setup_test_environment\n"
    "setup_test_environment()\n"
    "response = Client().get('/metrics')\n"
    "print(response.status_code); print(response.content.decode())\n"
)


def _run(code: str, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_counters_of_several_processes_are_summed_by_the_one_that_answers(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "hlht_portal.settings"}
    # The scraping process reads the test database, as the web workers would read the real one.
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        who = f"{db['USER']}:{db['PASSWORD']}" if db["PASSWORD"] else db["USER"]
        env["DATABASE_URL"] = f"postgres://{who}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    _run(COUNT, env, "3")  # a gunicorn worker
    _run(COUNT, env, "4")  # another, or a Celery pool process
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one file per process and kind

    status, _, text = _run(SCRAPE, env).partition("\n")
    assert status == "200"
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    push = (("interface", "notification_stationStatus"), ("ret", "0"))
    assert samples[("hlht_protocol_requests_total", push)] == 7
    assert samples[("hlht_protocol_latency_seconds_count", push)] == 7
    assert (
        samples[("hlht_pushes_stored_total", (("interface", "notification_stationStatus"), ("operator", "123456789")))]
        == 7
    )
    runs = (("interface", "query_stations_info"), ("operator", "123456789"), ("outcome", "failed"))
    assert samples[("hlht_pull_runs_total", runs)] == 2
    assert ("hlht_check_up", (("check", "database"),)) in samples  # the scrape-time gauges come along
