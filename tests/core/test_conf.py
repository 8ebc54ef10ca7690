"""apps.core.conf: every HLHT_* setting typed in one place, rebuilt when a test changes one."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.test import override_settings

from apps.core.conf import conf, setting_names


def test_every_hlht_setting_is_in_the_module_once():
    names = setting_names()
    assert len(names) == len(set(names))
    module = importlib.import_module("hlht_portal.settings")
    assert sorted(names) == sorted(name for name in vars(module) if name.startswith("HLHT_"))


def test_money_is_decimal_and_durations_carry_their_unit():
    c = conf()
    assert c.charging.driver_hold == Decimal("100.00") and isinstance(c.charging.driver_min_balance, Decimal)
    assert c.orders.money_tolerance == Decimal("0.01") and c.orders.power_margin == Decimal("1.10")
    assert c.protocol.key_overlap == timedelta(days=7)
    assert c.protocol.pending_status_lifetime == timedelta(days=7)
    assert c.client.pull_lease == timedelta(seconds=180) and c.client.pull_redispatch == timedelta(seconds=600)
    assert c.charging.session_stuck == timedelta(hours=24)
    assert c.protocol.clock_skew == timedelta(seconds=c.protocol.clock_skew_seconds)


def test_a_float_setting_becomes_the_decimal_it_reads_as():
    with override_settings(HLHT_DRIVER_HOLD=0.1, HLHT_PRICE_TOLERANCE="0.05"):
        assert conf().charging.driver_hold == Decimal("0.1")  # not 0.1000000000000000055511151231257827…
        assert conf().orders.price_tolerance == Decimal("0.05")


def test_the_fixture_and_override_settings_rebuild_it(settings):
    before = conf()
    assert conf() is before  # built once
    settings.HLHT_STALE_MINUTES = 7
    assert conf().supervision.stale_minutes == 7 and conf().supervision.stale_after == timedelta(minutes=7)
    with override_settings(HLHT_JOURNAL_RETENTION={"notification_stationStatus": 30}):
        assert dict(conf().journal.retention_days_per_interface) == {"notification_stationStatus": 30}
    assert dict(conf().journal.retention_days_per_interface) == dict(before.journal.retention_days_per_interface)


def test_other_settings_do_not_rebuild_it(settings):
    before = conf()
    settings.LOG_LEVEL_FOR_A_TEST = "x"
    assert conf() is before


def test_the_apps_read_hlht_settings_only_through_conf():
    apps = Path(__file__).resolve().parents[2] / "apps"
    reads = re.compile(r"settings\.HLHT_|getattr\(settings,")
    found = [
        f"{path.relative_to(apps)}:{number}: {line.strip()}"
        for path in apps.rglob("*.py")
        if path != apps / "core" / "conf.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if reads.search(line) and not line.lstrip().startswith("#")
    ]
    assert not found, "read them through apps.core.conf.conf():\n" + "\n".join(found)
