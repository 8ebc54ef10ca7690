"""Orders benchmark: order pushes from concurrent senders over HTTP against the same load on a no-op interface (the
floor), and the reconciliation of a million orders against a plain COPY-and-join (its floor)."""

from __future__ import annotations

import io
import json
import statistics
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from apps.core.conf import conf
from apps.demo.benchkit import Script, operators_delete, send_phase
from apps.interconnect.registry import REGISTRY, interface
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.pricing.services import policy_observe
from apps.protocol import CST, format_datetime, jsoncodec, schema
from apps.protocol.names import Interface
from apps.settlement.choices import NOT_LISTED, DisputeReasonChoices
from apps.settlement.models import Dispute, ReconciliationRun
from apps.settlement.services import orders_reconcile
from apps.stations.models import Connector, Equipment, Station

BENCH_PREFIX = "BENCHOR"
OPERATOR_ID = f"{BENCH_PREFIX}01"
FLOOR = "bench_orders_noop"  # a no-op interface: the same transport, envelope, token, replay and journal, no order
PORTAL = conf().protocol.operator_id
DAY = datetime(2026, 11, 30, tzinfo=CST)
TARIFF = [
    ("000000", "0.3370"),
    ("070000", "0.7286"),
    ("100000", "1.1802"),
    ("150000", "0.7286"),
    ("180000", "1.1802"),
    ("210000", "0.7286"),
    ("230000", "0.3370"),
]
SERVICE = Decimal("0.8000")
CONNECTORS = 200


def _order(n: int, connector_id: str) -> dict[str, Any]:
    """A one-period order priced by TARIFF (09:00–09:40, flat), consistent and compliant: the work of a good order."""
    start = DAY + timedelta(hours=7, seconds=n % 7200)
    end = start + timedelta(minutes=40)
    power = Decimal("24.00")
    elec, service = (power * Decimal("0.7286")).quantize(Decimal("0.01")), (power * SERVICE).quantize(Decimal("0.01"))
    detail = {
        "DetailStartTime": format_datetime(start),
        "DetailEndTime": format_datetime(end),
        "ElecPrice": Decimal("0.7286"),
        "SevicePrice": SERVICE,
        "DetailPower": power,
        "DetailElecMoney": elec,
        "DetailSeviceMoney": service,
    }
    return {
        "StartChargeSeq": f"{OPERATOR_ID}{n:018d}",
        "ConnectorID": connector_id,
        "StartTime": format_datetime(start),
        "EndTime": format_datetime(end),
        "TotalPower": power,
        "TotalElecMoney": elec,
        "TotalSeviceMoney": service,
        "TotalMoney": elec + service,
        "StopReason": 2,
        "SumPeriod": 1,
        "ChargeDetails": [detail],
    }


def _confirmed(name: str, answer: dict[str, Any]) -> str | None:
    return None if answer.get("ConfirmResult") == 0 else f"ConfirmResult {answer.get('ConfirmResult')}"


def _push_phase(keys: dict[str, str], senders: int, per_sender: int, floor: bool) -> dict[str, Any]:
    """Each sender pushes its own orders; the floor sends the same Data to the no-op interface."""
    numbers = [[i * per_sender + k for k in range(per_sender)] for i in range(senders)]
    scripts: list[Script] = [
        [(Interface.NOTIFICATION_CHARGE_ORDER_INFO, _order(n, f"BC{n % CONNECTORS:04d}")) for n in own]
        for own in numbers
    ]
    return send_phase(OPERATOR_ID, keys, scripts, rename=FLOOR if floor else None, check=_confirmed)


def _directory(operator: Operator) -> None:
    station = Station.objects.create(
        operator=operator,
        station_id="BS1",
        equipment_owner_id=operator.pk,
        station_name="基准测试站",
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
        operator=operator, station=station, equipment_id="BE1", equipment_type=1, power=Decimal("120.0")
    )
    infos = [{"StartTime": s, "ElecPrice": Decimal(p), "SevicePrice": SERVICE} for s, p in TARIFF]
    for n in range(CONNECTORS):
        connector = Connector.objects.create(
            operator=operator,
            station=station,
            equipment=equipment,
            connector_id=f"BC{n:04d}",
            connector_type=4,
            voltage_upper_limits=750,
            voltage_lower_limits=200,
            current=250,
            power=Decimal("60.0"),
            national_standard=2,
        )
        policy_observe(connector=connector, infos=infos, observed_at=DAY - timedelta(days=30))


# -- reconciliation --------------------------------------------------------------------------------------------------

MISMATCH_MONEY, MISMATCH_ENERGY, MISSING_HERE, UNLISTED = 300, 300, 200, 200


def _seq(n: int) -> str:
    return f"{PORTAL}{n:018d}"


def _store_orders(operator: Operator, count: int) -> None:
    """`count` finished portal-started orders ending on DAY, written the fastest way (COPY on PostgreSQL)."""
    table = ChargeOrder._meta.db_table
    connector = Connector.objects.filter(operator=operator).order_by("pk").first()
    if connector is None:
        raise CommandError(f"{operator.pk} has no connector to write orders for")
    now = datetime.now(CST)
    start, end = DAY + timedelta(hours=8), DAY + timedelta(hours=9)
    columns = (
        "created, updated, operator_id, connector_id, connector_code, station_code, equipment_code, "
        "start_charge_seq, start_charge_seq_stat, charge_model, start_time, end_time, total_power, "
        "total_money, ident_code, user_name"
    )
    rows = (
        (
            now,
            now,
            operator.pk,
            connector.pk,
            connector.connector_id,
            "",
            "",
            _seq(n),
            4,
            1,
            start,
            end,
            Decimal("24.00"),
            Decimal("36.68"),
            "",
            "",
        )
        for n in range(count)
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            buffer.writelines("\t".join(str(v) for v in row) + "\n" for row in rows)
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
            cursor.execute(f"ANALYZE {table}")
        else:
            marks = ", ".join(["%s"] * 16)
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(rows))  # noqa: S608


def _check_text(count: int) -> str:
    """The decrypted Data of check_charge_orders listing `count` orders (JSON text, as the service receives it):
    the last UNLISTED the portal holds are left out, MISSING_HERE it never received are added, some differ."""
    parts = []
    power_total, money_total = Decimal(0), Decimal(0)
    listed = count - UNLISTED
    for n in range(listed + MISSING_HERE):
        power, money = "24.00", "36.68"
        if n < MISMATCH_MONEY:
            money = "37.68"
        elif n < MISMATCH_MONEY + MISMATCH_ENERGY:
            power = "25.00"
        seq = _seq(n) if n < listed else _seq(count + n)
        parts.append(f'{{"StartChargeSeq":"{seq}","TotalPower":{power},"TotalMoney":{money}}}')
        power_total += Decimal(power)
        money_total += Decimal(money)
    period = (format_datetime(DAY), format_datetime(DAY + timedelta(hours=23, minutes=59, seconds=59)))
    return (
        f'{{"CheckOrderSeq":"{OPERATOR_ID}202611300100000001","StartTime":"{period[0]}","EndTime":"{period[1]}",'
        f'"OrderCount":{len(parts)},"TotalOrderPower":{power_total:.4f},"TotalOrderMoney":{money_total:.2f},'
        f'"ChargeOrders":[{",".join(parts)}]}}'
    )


def _floor(text: str) -> float:
    """The same comparison the simplest set-based way: COPY the list into a temporary table and count what differs
    with one join (no validation, no dispute rows, no answer). Seconds."""
    began = time.perf_counter()
    listed = json.loads(text)["ChargeOrders"]
    table = ChargeOrder._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute("CREATE TEMP TABLE bench_floor (seq varchar(27), power numeric(12,2), money numeric(12,2))")
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            buffer.writelines(f"{o['StartChargeSeq']}\t{o['TotalPower']}\t{o['TotalMoney']}\n" for o in listed)
            buffer.seek(0)
            cursor.cursor.copy_expert("COPY bench_floor FROM STDIN", buffer)
        else:
            cursor.executemany(
                "INSERT INTO bench_floor VALUES (%s, %s, %s)",
                [(o["StartChargeSeq"], o["TotalPower"], o["TotalMoney"]) for o in listed],
            )
        cursor.execute(
            f"SELECT count(*) FROM bench_floor l LEFT JOIN {table} o "  # noqa: S608
            "ON o.operator_id = %s AND o.start_charge_seq = l.seq "
            "WHERE o.id IS NULL OR o.total_money <> l.money OR o.total_power <> l.power",
            [OPERATOR_ID],
        )
        cursor.fetchone()
        cursor.execute("DROP TABLE bench_floor")
    return time.perf_counter() - began


def _reconcile_phase(operator: Operator, count: int) -> dict[str, Any]:
    _store_orders(operator, count)
    text = _check_text(count)
    began = time.perf_counter()
    payload = jsoncodec.loads(text)
    parsed = time.perf_counter()
    problems = schema.validate(payload, schema.CHECK_CHARGE_ORDERS_REQUEST)
    validated = time.perf_counter()
    run = orders_reconcile(operator_id=operator.pk, payload=payload, received_at=datetime.now(CST))
    reconciled = time.perf_counter()
    floor = _floor(text)
    reasons = {reason: Dispute.objects.filter(run=run, reason=reason).count() for reason in DisputeReasonChoices.values}
    expected = {
        DisputeReasonChoices.NOT_FOUND: MISSING_HERE,
        DisputeReasonChoices.WRONG_MONEY: MISMATCH_MONEY,
        DisputeReasonChoices.WRONG_ENERGY: MISMATCH_ENERGY,
        NOT_LISTED: UNLISTED,
    }
    total = reconciled - began
    return {
        "orders": count,
        "message_mib": len(text.encode()) / 2**20,
        "parse_s": parsed - began,
        "validate_s": validated - parsed,
        "reconcile_s": reconciled - validated,
        "total_s": total,
        "floor_s": floor,
        "ratio": total / floor,
        "problems": len(problems),
        "disputes": {int(k): v for k, v in reasons.items()},
        "ok": not problems
        and reasons == expected
        and run.matched_count == count - UNLISTED - MISMATCH_MONEY - MISMATCH_ENERGY,
    }


# -- clean-up --------------------------------------------------------------------------------------------------------


@transaction.atomic
def _clean_up() -> None:
    ids = list(Operator.objects.filter(operator_id__startswith=BENCH_PREFIX).values_list("operator_id", flat=True))
    Dispute.objects.filter(operator_id__in=ids).delete()
    ReconciliationRun.objects.filter(operator_id__in=ids).delete()
    operators_delete(ids)


class Command(BaseCommand):
    help = (
        "Benchmark orders and print figures. (1) --senders concurrent senders push --orders-per-sender "
        "notification_charge_order_info each over real HTTP (the portal serves in this process, the senders in a "
        "forked one), then the same load to a no-op interface: the floor is the transport, envelope, token, replay "
        "and journal without the order. (2) --reconcile orders of one operator-day are stored (COPY), and their "
        "check_charge_orders Data (JSON text) is parsed, validated and reconciled, against the floor of COPY plus one "
        "counting join. Writes only BENCHOR* rows and deletes them; refuses a database with other operators unless "
        "--yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--senders", type=int, default=50)
        parser.add_argument("--orders-per-sender", type=int, default=40)
        parser.add_argument("--reconcile", type=int, default=1_000_000, help="orders in the reconciliation (0: skip)")
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--yes", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if Operator.objects.exclude(operator_id__startswith=BENCH_PREFIX).exists() and not options["yes"]:
            raise CommandError("the database holds other operators; run on a scratch database, or pass --yes")
        if options["reconcile"] and options["reconcile"] < UNLISTED + MISMATCH_MONEY + MISMATCH_ENERGY:
            raise CommandError(f"--reconcile needs at least {UNLISTED + MISMATCH_MONEY + MISMATCH_ENERGY} orders")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]

        @interface(FLOOR)
        def noop(ctx, payload):
            return {"StartChargeSeq": payload.get("StartChargeSeq", ""), "ConnectorID": "", "ConfirmResult": 0}

        rounds: list[dict[str, Any]] = []
        try:
            for index in range(options["rounds"]):
                _clean_up()
                keys = operator_provision(operator_id=OPERATOR_ID, name="订单基准测试运营商")["inbound"]
                operator = Operator.objects.get(pk=OPERATOR_ID)
                _directory(operator)
                floor = _push_phase(keys, options["senders"], options["orders_per_sender"], floor=True)
                orders = _push_phase(keys, options["senders"], options["orders_per_sender"], floor=False)
                stored = ChargeOrder.objects.filter(operator=operator).count()
                ok = stored == orders["messages"] and not orders["errors"] and not floor["errors"]
                figures = {"push": orders, "push_floor": floor, "stored": stored, "push_ok": ok}
                _clean_up()
                if options["reconcile"]:
                    operator_provision(operator_id=OPERATOR_ID, name="订单基准测试运营商")
                    operator = Operator.objects.get(pk=OPERATOR_ID)
                    _directory(operator)
                    figures["reconcile"] = _reconcile_phase(operator, options["reconcile"])
                rounds.append(figures)
                self.stderr.write(f"round {index + 1}: {self._line(figures)}")
        finally:
            REGISTRY.pop(FLOOR, None)
            _clean_up()
        summary = self._summary(rounds, options)
        self.stdout.write(
            json.dumps(summary, ensure_ascii=False, indent=2) if options["json"] else self._table(summary)
        )
        if not summary["ok"]:
            raise SystemExit(1)

    @staticmethod
    def _line(f: dict[str, Any]) -> str:
        push, floor = f["push"], f["push_floor"]
        text = (
            f"push p50 {push['p50_ms']:.1f} ms p99 {push['p99_ms']:.1f} ms {push['per_s']:.0f}/s "
            f"(floor p50 {floor['p50_ms']:.1f} ms, {floor['per_s']:.0f}/s)"
        )
        if "reconcile" in f:
            r = f["reconcile"]
            text += f"; reconcile {r['orders']} in {r['total_s']:.1f} s (floor {r['floor_s']:.1f} s)"
        return text

    @staticmethod
    def _summary(rounds: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
        def med(path: tuple[str, ...]) -> float:
            values = []
            for r in rounds:
                value: Any = r
                for key in path:
                    value = value[key]
                values.append(value)
            return statistics.median(values)

        summary: dict[str, Any] = {
            "database": connection.vendor,
            "senders": options["senders"],
            "orders_per_sender": options["orders_per_sender"],
            "rounds": len(rounds),
            "push": {k: med(("push", k)) for k in ("p50_ms", "p99_ms", "per_s")},
            "push_floor": {k: med(("push_floor", k)) for k in ("p50_ms", "p99_ms", "per_s")},
            "per_round": rounds,
        }
        summary["push"]["p50_vs_floor"] = summary["push"]["p50_ms"] / summary["push_floor"]["p50_ms"]
        summary["push"]["rate_vs_floor"] = summary["push"]["per_s"] / summary["push_floor"]["per_s"]
        oks = [r["push_ok"] for r in rounds]
        if options["reconcile"]:
            keys = ("parse_s", "validate_s", "reconcile_s", "total_s", "floor_s", "ratio", "message_mib")
            summary["reconcile"] = {"orders": options["reconcile"], **{k: med(("reconcile", k)) for k in keys}}
            oks += [r["reconcile"]["ok"] for r in rounds]
        summary["ok"] = all(oks)
        return summary

    @staticmethod
    def _table(s: dict[str, Any]) -> str:
        p, f = s["push"], s["push_floor"]
        lines = [
            f"HLHT orders benchmark: {s['database']}, {s['rounds']} round(s), medians",
            f"order push, {s['senders']} senders × {s['orders_per_sender']}: p50 {p['p50_ms']:.1f} ms, "
            f"p99 {p['p99_ms']:.1f} ms, {p['per_s']:.0f} orders/s",
            f"  floor (no-op interface, same load): p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, "
            f"{f['per_s']:.0f} msg/s; order/floor: p50 × {p['p50_vs_floor']:.2f}, rate × {p['rate_vs_floor']:.2f}",
        ]
        if "reconcile" in s:
            r = s["reconcile"]
            lines += [
                f"reconciliation of {r['orders']:,} orders ({r['message_mib']:.0f} MiB of Data): {r['total_s']:.1f} s "
                f"= parse {r['parse_s']:.1f} + validate {r['validate_s']:.1f} + reconcile {r['reconcile_s']:.1f}",
                f"  floor (COPY + one counting join): {r['floor_s']:.1f} s; product/floor × {r['ratio']:.1f}",
            ]
        lines.append("verified: " + ("all counts as expected" if s["ok"] else "SOME COUNTS WRONG (see --json)"))
        return "\n".join(lines)
