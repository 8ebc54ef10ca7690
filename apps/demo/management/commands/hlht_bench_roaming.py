"""Roaming benchmark: every part-3 interface the portal serves, from concurrent operator senders over real HTTP, each
sender walking one driver's session (start result, status pushes, stop result, order, bonus order, policy queries),
against the same number of calls to a no-op interface (the floor). Verifies each session ended and was paid once."""

from __future__ import annotations

import json
import os
import statistics
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.charging.models import ChargingSession, CommandAttempt, OutboundCommand, SessionEvent
from apps.core.conf import conf
from apps.demo.benchkit import operators_delete, send_phase, sql_delete
from apps.demo.floor import FLOOR, floor_register, floor_unregister
from apps.drivers.choices import EntryKind
from apps.drivers.models import Driver, Notification, WalletEntry
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.orders.choices import StartChargeSeqStat
from apps.pricing.services import policy_observe
from apps.protocol import CST, format_datetime
from apps.protocol.names import Interface
from apps.stations.models import Connector, Equipment, Station

PREFIX = "BENCHRO"
OPERATOR_ID = f"{PREFIX}01"
PORTAL = conf().protocol.operator_id
PHONE_BASE = 19900000000
BENCH_PHONES = "1990000"  # the benchmark's drivers: 19900000000–19900009999
PRICE, SERVICE = Decimal("0.7286"), Decimal("0.8000")


def _seq(n: int) -> str:
    return f"{PORTAL}{n:018d}"


def _script(n: int, connector_id: str, statuses: int, start: datetime) -> list[tuple[str, dict[str, Any]]]:
    """One session's messages, in the order an operator sends them."""
    seq, begun = _seq(n), format_datetime(start)
    calls: list[tuple[str, dict[str, Any]]] = [
        (Interface.QUERY_EQUIP_BUSINESS_POLICY, {"EquipBizSeq": f"{OPERATOR_ID}{n:018d}", "ConnectorID": connector_id}),
        (
            Interface.NOTIFICATION_START_CHARGE_RESULT,
            {"StartChargeSeq": seq, "StartChargeSeqStat": 2, "ConnectorID": connector_id, "StartTime": begun},
        ),
    ]
    for k in range(statuses):
        power = Decimal(k + 1).quantize(Decimal("0.01"))
        calls.append(
            (
                Interface.NOTIFICATION_EQUIP_CHARGE_STATUS,
                {
                    "StartChargeSeq": seq,
                    "StartChargeSeqStat": 2,
                    "ConnectorID": connector_id,
                    "ConnectorStatus": 3,
                    "CurrentA": Decimal("100.0"),
                    "VoltageA": Decimal("400.0"),
                    "Soc": Decimal("50.0"),
                    "StartTime": begun,
                    "EndTime": format_datetime(start + timedelta(seconds=50 * (k + 1))),
                    "TotalPower": power,
                    "ElecMoney": (power * PRICE).quantize(Decimal("0.01")),
                    "SeviceMoney": (power * SERVICE).quantize(Decimal("0.01")),
                    "TotalMoney": (power * (PRICE + SERVICE)).quantize(Decimal("0.01")),
                },
            )
        )
    end = start + timedelta(minutes=20)
    power = Decimal("12.00")
    elec, service = (power * PRICE).quantize(Decimal("0.01")), (power * SERVICE).quantize(Decimal("0.01"))
    order = {
        "StartChargeSeq": seq,
        "ConnectorID": connector_id,
        "StartTime": begun,
        "EndTime": format_datetime(end),
        "TotalPower": power,
        "TotalElecMoney": elec,
        "TotalSeviceMoney": service,
        "TotalMoney": elec + service,
        "StopReason": 1,
        "SumPeriod": 1,
        "ChargeDetails": [
            {
                "DetailStartTime": begun,
                "DetailEndTime": format_datetime(end),
                "ElecPrice": PRICE,
                "SevicePrice": SERVICE,
                "DetailPower": power,
                "DetailElecMoney": elec,
                "DetailSeviceMoney": service,
            }
        ],
    }
    bonus = {
        **order,
        "ChargeModel": 1,
        "UserName": "基准用户",
        "StationID": "BRS1",
        "EquipmentID": "BRE1",
        "ConnectorPower": Decimal("60.0"),
        "ChargeLast": 1200,
        "MeterValueStart": Decimal("100.00"),
        "MeterValueEnd": Decimal("112.00"),
    }
    calls += [
        (
            Interface.NOTIFICATION_STOP_CHARGE_RESULT,
            {
                "StartChargeSeq": seq,
                "StartChargeSeqStat": 4,
                "ConnectorID": connector_id,
                "SuccStat": 0,
                "FailReason": 0,
            },
        ),
        (Interface.NOTIFICATION_CHARGE_ORDER_INFO, order),
        (Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS, bonus),
    ]
    return calls


def _setup(senders: int) -> tuple[dict[str, str], list[ChargingSession]]:
    keys = operator_provision(operator_id=OPERATOR_ID, name="漫游基准测试运营商")["inbound"]
    operator = Operator.objects.get(pk=OPERATOR_ID)
    station = Station.objects.create(
        operator=operator,
        station_id="BRS1",
        equipment_owner_id=operator.pk,
        station_name="漫游基准站",
        country_code="CN",
        area_code="110105",
        address="北京市朝阳区",
        service_tel="400",
        station_type=1,
        station_status=50,
        park_nums=0,
        station_lng=Decimal("116.48"),
        station_lat=Decimal("39.92"),
        construction=255,
    )
    equipment = Equipment.objects.create(
        operator=operator, station=station, equipment_id="BRE1", equipment_type=1, power=Decimal("120.0")
    )
    sessions = []
    started = timezone.now() - timedelta(minutes=30)
    for n in range(senders):
        connector = Connector.objects.create(
            operator=operator,
            station=station,
            equipment=equipment,
            connector_id=f"BRC{n:04d}",
            connector_type=4,
            voltage_upper_limits=750,
            voltage_lower_limits=200,
            current=250,
            power=Decimal("60.0"),
            national_standard=2,
        )
        policy_observe(
            connector=connector,
            infos=[{"StartTime": "000000", "ElecPrice": PRICE, "SevicePrice": SERVICE}],
            observed_at=started - timedelta(days=1),
        )
        driver = driver_register(phone=str(PHONE_BASE + n))
        wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key="bench")
        sessions.append(
            ChargingSession.objects.create(
                driver=driver, operator=operator, connector=connector, start_charge_seq=_seq(n), requested_at=started
            )
        )
    return keys, sessions


@transaction.atomic
def _clean_up() -> None:
    ids = list(Operator.objects.filter(operator_id__startswith=PREFIX).values_list("operator_id", flat=True))
    drivers = list(Driver.objects.filter(phone__startswith=BENCH_PHONES).values_list("pk", flat=True))
    sessions = ChargingSession.objects.filter(operator_id__in=ids)
    CommandAttempt.objects.filter(command__session__in=sessions).delete()
    OutboundCommand.objects.filter(session__in=sessions).delete()
    SessionEvent.objects.filter(session__in=sessions).delete()
    sessions.delete()
    if drivers:  # the ledger refuses deletes through the ORM: a benchmark's own rows go by SQL
        sql_delete(WalletEntry, "driver_id", drivers)
    Notification.objects.filter(driver_id__in=drivers).delete()
    users = list(Driver.objects.filter(pk__in=drivers).values_list("user_id", flat=True))
    Driver.objects.filter(pk__in=drivers).delete()
    get_user_model().objects.filter(pk__in=users).delete()
    operators_delete(ids)


class Command(BaseCommand):
    help = (
        "Benchmark the part-3 interfaces the portal serves: --senders concurrent operator senders, each walking one "
        "driver's session over real HTTP (query_equip_business_policy, start result, --statuses charging-status "
        "pushes, stop result, order, bonus order; --interval s between a sender's calls, 0 = as fast as answered), "
        "against the same calls to a no-op interface. Prints p50/p99 per interface. Writes only BENCHRO* rows and "
        "its drivers, and deletes them; refuses a database with other operators unless --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--senders", type=int, default=50)
        parser.add_argument("--statuses", type=int, default=10)
        parser.add_argument("--interval", type=float, default=0.0)
        parser.add_argument(
            "--stagger",
            type=float,
            default=None,
            help="spread the senders' starts over this many seconds (default with --interval: one whole session, so "
            "at any moment the 50 sessions are at different steps, as real ones are; 0 = all within one interval)",
        )
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="serve the portal under gunicorn with this many worker processes (PostgreSQL; 0 = in this process)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=4,
            help="threads per gunicorn worker (1: one request per process at a time, as the sync workers of "
            "deploy/systemd/hlht-web.service serve it; more threads share the process's GIL)",
        )
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--yes", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        others = (
            Operator.objects.exclude(operator_id__startswith=PREFIX).exists()
            or Driver.objects.exclude(phone__startswith=BENCH_PHONES).exists()
        )
        if others and not options["yes"]:
            raise CommandError(
                "the database holds other operators or drivers; run on a scratch database, or pass --yes"
            )
        if not 0 < options["senders"] <= 10000:
            raise CommandError("--senders must be between 1 and 10000")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
        # No timers: the operator's pushes drive every session to its end (for the rest of this process).
        override_settings(HLHT_ENQUEUE="apps.core.jobs.discard_enqueue").enable()
        # Every sender is a thread of one operator's platform that asks its own token, all within the same second,
        # twice a round (floor and real): the per-operator token limits (HLHT_TOKEN_RATE 10 a minute,
        # HLHT_MAX_LIVE_TOKENS 5) would refuse or retire all but a few. Raised for this process and its gunicorn.
        limits = {
            "HLHT_TOKEN_RATE": 4 * options["senders"] * options["rounds"],
            "HLHT_MAX_LIVE_TOKENS": 4 * options["senders"],
        }
        override_settings(**limits).enable()
        os.environ.update({name: str(value) for name, value in limits.items()})

        floor_register()

        calls = len(_script(0, "C", options["statuses"], datetime.now(CST)))
        stagger = options["stagger"]
        if stagger is None:
            stagger = options["interval"] * calls
        options["stagger"] = stagger
        rounds = []
        try:
            for index in range(options["rounds"]):
                _clean_up()
                keys, sessions = _setup(options["senders"])
                start = datetime.now(CST) - timedelta(minutes=30)
                scripts = [
                    _script(n, s.connector.connector_id, options["statuses"], start) for n, s in enumerate(sessions)
                ]
                pace = {"interval": options["interval"], "stagger": stagger, "workers": options["workers"],
                        "threads": options["threads"]}  # fmt: skip
                floor = send_phase(OPERATOR_ID, keys, scripts, rename=FLOOR, **pace)
                real = send_phase(OPERATOR_ID, keys, scripts, **pace)
                finished = ChargingSession.objects.filter(
                    operator_id=OPERATOR_ID, state=StartChargeSeqStat.FINISHED, order__isnull=False
                ).count()
                charges = WalletEntry.objects.filter(
                    driver__sessions__operator_id=OPERATOR_ID, kind=EntryKind.CHARGE
                ).count()
                ok = finished == charges == len(sessions) and not real["errors"] and not floor["errors"]
                rounds.append({"real": real, "floor": floor, "finished": finished, "charges": charges, "ok": ok})
                self.stderr.write(
                    f"round {index + 1}: p50 {real['p50_ms']:.1f} ms p99 {real['p99_ms']:.1f} ms "
                    f"{real['per_s']:.0f}/s (floor p50 {floor['p50_ms']:.1f} ms); "
                    f"sessions paid {charges}/{len(sessions)}"
                )
        finally:
            floor_unregister()
            _clean_up()
        summary = self._summary(rounds, options)
        self.stdout.write(
            json.dumps(summary, ensure_ascii=False, indent=2) if options["json"] else self._table(summary)
        )
        if not summary["ok"]:
            raise SystemExit(1)

    @staticmethod
    def _summary(rounds: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
        def med(values: list[float]) -> float:
            return statistics.median(values) if values else 0.0

        names = sorted({n for r in rounds for n in r["real"]["interfaces"]})
        return {
            "senders": options["senders"],
            "statuses": options["statuses"],
            "interval_s": options["interval"],
            "stagger_s": options["stagger"],
            "workers": options["workers"],
            "threads": options["threads"],
            "rounds": len(rounds),
            "all": {k: med([r["real"][k] for r in rounds]) for k in ("p50_ms", "p99_ms", "per_s")},
            "floor": {k: med([r["floor"][k] for r in rounds]) for k in ("p50_ms", "p99_ms", "per_s")},
            "interfaces": {
                n: {k: med([r["real"]["interfaces"][n][k] for r in rounds]) for k in ("p50_ms", "p99_ms")}
                for n in names
            },
            "per_round": rounds,
            "ok": all(r["ok"] for r in rounds),
        }

    @staticmethod
    def _table(s: dict[str, Any]) -> str:
        a, f = s["all"], s["floor"]
        pace = (
            f"{s['interval_s']:g} s between a sender's calls, starts spread over {s['stagger_s']:g} s"
            if s["interval_s"]
            else "closed loop"
        )
        served = f"gunicorn, {s['workers']} workers × {s['threads']} threads" if s["workers"] else "served in-process"
        lines = [
            f"HLHT roaming benchmark: {s['senders']} senders, {pace}, {served}, {s['rounds']} round(s), medians",
            f"{'interface':45} {'p50 ms':>9} {'p99 ms':>9}",
        ]
        lines += [f"{n:45} {v['p50_ms']:9.1f} {v['p99_ms']:9.1f}" for n, v in s["interfaces"].items()]
        lines += [
            f"{'all part-3 calls':45} {a['p50_ms']:9.1f} {a['p99_ms']:9.1f}   {a['per_s']:.0f} msg/s",
            f"{'floor (no-op interface, same calls)':45} {f['p50_ms']:9.1f} {f['p99_ms']:9.1f}   {f['per_s']:.0f}/s",
            f"part-3/floor: p50 × {a['p50_ms'] / f['p50_ms']:.2f}, p99 × {a['p99_ms'] / f['p99_ms']:.2f}",
            "verified: " + ("every session ended and was paid once" if s["ok"] else "SOME SESSIONS WRONG (see --json)"),
        ]
        return "\n".join(lines)
