"""The systemd units in deploy/ start what the README says production runs, and restart it when it dies."""

import configparser
import shlex
from pathlib import Path

from django.conf import settings

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(UNITS / name)
    return parser


def test_every_unit_is_restarted_whenever_it_exits():
    names = sorted(p.name for p in UNITS.glob("*.service"))
    assert names == ["hlht-beat.service", "hlht-web.service", "hlht-worker@.service"]
    for name in names:
        assert _unit(name)["Service"]["Restart"] == "always", name


def test_the_units_run_the_portals_wsgi_application_and_celery_app():
    web = shlex.split(_unit("hlht-web.service")["Service"]["ExecStart"])
    assert web[0].endswith("/gunicorn") and web[1] == settings.WSGI_APPLICATION.rsplit(".", 1)[0]
    for name in ("hlht-beat.service", "hlht-worker@.service"):
        argv = shlex.split(_unit(name)["Service"]["ExecStart"])
        assert argv[0].endswith("/celery") and argv[argv.index("-A") + 1] == "hlht_portal"


def test_the_worker_template_serves_the_queue_named_by_its_instance():
    # hlht-worker@celery and hlht-worker@pulls: the pulls queue is a setting, the default is the unit's instance name.
    argv = shlex.split(_unit("hlht-worker@.service")["Service"]["ExecStart"])
    assert argv[argv.index("-Q") + 1] == "%i"
    assert settings.HLHT_PULL_QUEUE == "pulls"
