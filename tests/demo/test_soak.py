"""The soak for one minute: gunicorn, a Celery worker and beat on Redis, simulated platforms as processes and drivers
over the API; every push acknowledged is stored once, every session charged once, and the picture is drawn."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.integration.processes import celery_publishing_to, private_redis

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(settings):
    """A Redis of the soak's own: its worker and beat take the `celery` and `pulls` queues, which on the shared broker
    also carry what the tests running beside it (`make test`'s other xdist worker) publish for their own database."""
    with private_redis() as server, celery_publishing_to(server.url):
        settings.CELERY_BROKER_URL = server.url  # the soak's processes, its queue depths
        yield server


def test_a_one_minute_soak_stores_every_acknowledged_push_once_and_draws_its_picture(tmp_path, broker):
    out = StringIO()
    call_command("hlht_soak", minutes=1, platforms=2, stations=20, drivers=2, sample_every=5, out=str(tmp_path),
                 json=True, stdout=out, stderr=StringIO())  # fmt: skip
    figures = json.loads(out.getvalue())

    assert figures["ok"], {name: check for name, check in figures["checks"].items() if not check["ok"]}
    status = figures["checks"]["status pushes acknowledged = stored"]
    assert status["actual"] == status["expected"] > 0  # real pushes, each stored once
    assert figures["checks"]["status rows duplicated"]["actual"] == 0
    assert figures["checks"]["sessions charged twice"]["actual"] == 0
    ended = figures["driver_api"]["outcomes"].get("ended_with_order", 0)
    assert ended >= 1  # a driver started, stopped, and the session ended with its order (and its money posted)
    assert figures["sessions_with_order"] >= ended
    # Every kind of process was sampled, every 5 s over the minute.
    assert {"gunicorn-1", "worker-1", "beat"} <= set(figures["rss_mib"])
    assert len([name for name in figures["rss_mib"] if name.startswith("sim-MA01SK")]) == 2
    assert figures["samples"] >= 10
    png = tmp_path / "soak.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = (tmp_path / "soak.csv").read_text().splitlines()
    assert rows[0].startswith("t_s,") and len(rows) == figures["samples"] + 1
