"""Demo data for a first look at the portal: a few Beijing operators, stations, statuses, tariffs and orders."""

from __future__ import annotations

import random
import secrets
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from apps.charging.choices import CommandKind, CommandState, Outcome
from apps.charging.models import ChargingSession, OutboundCommand
from apps.core.conf import conf
from apps.core.roles import OPERATOR_MANAGER, PLATFORM_ADMIN, REGULATOR
from apps.core.services import roles_sync
from apps.demo.day import PAST_DAYS, SERVICE_PRICE, TARIFF, order_payload, past_start, seeded_day, seeded_past
from apps.drivers.models import Driver
from apps.drivers.services import driver_register, wallet_top_up
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator, OperatorAccount
from apps.orders.choices import OrderInterface, StartChargeSeqStat, StopReason
from apps.orders.models import ChargeOrder
from apps.orders.services import order_receive
from apps.pricing.models import PolicySource
from apps.pricing.services import policy_check_record, policy_observe
from apps.protocol import format_datetime
from apps.settlement.choices import SettlementPeriod
from apps.settlement.models import SettlementAgreement
from apps.settlement.services import orders_reconcile, portal_orders
from apps.settlement.statements import statements_generate
from apps.stations import choices as sc
from apps.stations.models import Connector, Equipment, Station

DEMO_DRIVER_PHONE = "13800138000"
DEMO_SEED = 20161110  # hlht_demo's default; the live demo carries the seeded operators' day on with it
OPERATORS = [
    ("MA01BJ001", "北京京电绿行充电科技有限公司", "400-010-0001", "北京市朝阳区望京街10号"),
    ("MA01BJ002", "北京城市快充能源服务有限公司", "400-010-0002", "北京市海淀区中关村大街27号"),
    ("MA01BJ003", "北京通达公交充电运营有限公司", "400-010-0003", "北京市丰台区南四环西路188号"),
]
CONSUMER = ("MA01NAV01", "京行导航出行服务有限公司", "400-010-0009", "北京市西城区金融大街5号")

# (district AreaCode, place, GCJ-02 lng, lat, construction)
SITES = [
    ("110105", "朝阳区建国路CBD地下停车场", "116.461286", "39.909604", sc.Construction.BUILDING_CAR_PARK),
    ("110105", "朝阳区望京SOHO", "116.481120", "39.996560", sc.Construction.OFFICE),
    ("110108", "海淀区中关村软件园", "116.305310", "40.047320", sc.Construction.INDUSTRIAL_PARK),
    ("110108", "海淀区五道口购物中心", "116.338310", "39.992990", sc.Construction.BUILDING_CAR_PARK),
    ("110101", "东城区东直门交通枢纽", "116.435870", "39.942150", sc.Construction.TRANSPORT_HUB),
    ("110102", "西城区金融街", "116.365760", "39.915600", sc.Construction.OFFICE),
    ("110106", "丰台区科技园", "116.296520", "39.829310", sc.Construction.INDUSTRIAL_PARK),
    ("110112", "通州区运河商务区", "116.684980", "39.906550", sc.Construction.OFFICE),
    ("110115", "大兴区亦庄经济开发区", "116.512990", "39.795650", sc.Construction.INDUSTRIAL_PARK),
    ("110114", "昌平区回龙观居住区", "116.336780", "40.075620", sc.Construction.RESIDENTIAL),
    ("110113", "顺义区首都机场T3停车楼", "116.616940", "40.055530", sc.Construction.TRANSPORT_HUB),
    ("110107", "石景山区首钢园", "116.167680", "39.914540", sc.Construction.VENUE),
    ("110106", "丰台区六里桥公交场站", "116.310850", "39.878370", sc.Construction.TRANSPORT_HUB),
    ("110111", "房山区良乡大学城", "116.170590", "39.733630", sc.Construction.PUBLIC_INSTITUTION),
]


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str


def _set_login(username: str, group: str, *, operator: Operator | None = None) -> DemoLogin:
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username, defaults={"is_staff": True})
    # A fresh random password on each run: the demo never ships a guessable login.
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.is_staff = True
    user.save()
    user.groups.set([Group.objects.get(name=group)])
    if operator is not None:
        OperatorAccount.objects.update_or_create(user=user, defaults={"operator": operator})
    return DemoLogin(username=username, password=password, role=group)


@transaction.atomic
def demo_load(*, seed: int = DEMO_SEED) -> list[DemoLogin]:
    """Create (or refresh) the demo directory and the demo logins; safe to run repeatedly."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    roles_sync()
    now = timezone.now()
    operators = []
    sessions: dict[str, list[tuple[datetime, datetime]]] = {}
    driver = _demo_driver()
    for operator_id, name, tel, address in OPERATORS:
        operator, _ = Operator.objects.update_or_create(
            operator_id=operator_id,
            defaults={
                "operator_name": name,
                "operator_tel1": tel,
                "operator_reg_address": address,
                "kind": OperatorKind.OPERATOR,
                "status": OperatorStatus.ACTIVE,
            },
        )
        operators.append(operator)
    Operator.objects.update_or_create(
        operator_id=CONSUMER[0],
        defaults={
            "operator_name": CONSUMER[1],
            "operator_tel1": CONSUMER[2],
            "operator_reg_address": CONSUMER[3],
            "kind": OperatorKind.CONSUMER,
            "status": OperatorStatus.TESTING,
        },
    )

    for index, (area_code, place, lng, lat, construction) in enumerate(SITES):
        operator = operators[index % len(operators)]
        is_bus = operator.operator_id == "MA01BJ003"
        station, _ = Station.objects.update_or_create(
            operator=operator,
            station_id=f"BJ{area_code}{index + 1:04d}",
            defaults={
                "equipment_owner_id": operator.operator_id,
                "station_name": f"{place}充电站",
                "area_code": area_code,
                "address": f"北京市{place}",
                "service_tel": operator.operator_tel1,
                "station_tel": f"010-{rng.randint(60000000, 89999999)}",
                "station_type": sc.StationType.BUS if is_bus else sc.StationType.PUBLIC,
                "station_status": sc.StationStatus.NORMAL if index % 7 else sc.StationStatus.MAINTENANCE,
                "park_nums": rng.randint(4, 40),
                "station_lng": Decimal(lng),
                "station_lat": Decimal(lat),
                "construction": construction,
                "busine_hours": "00:00-24:00",
                "payment": "线上",
                "electricity_fee": "峰 1.15 元/度；平 0.70 元/度；谷 0.32 元/度",
                "service_fee": "0.80 元/度",
                "park_fee": "充电期间免费停车2小时",
                "match_cars": "公交车" if is_bus else "私家车、出租车、网约车",
            },
        )
        for e in range(rng.randint(2, 4)):
            dc = e % 3 != 2
            equipment, _ = Equipment.objects.update_or_create(
                operator=operator,
                equipment_id=f"{station.station_id}E{e + 1:02d}",
                defaults={
                    "station": station,
                    "equipment_type": sc.EquipmentType.DC if dc else sc.EquipmentType.AC,
                    "power": Decimal("120.0") if dc else Decimal("7.0"),
                    "equipment_name": f"{e + 1}号{'直流' if dc else '交流'}桩",
                    "manufacturer_name": "北京华商三优新能源",
                    "equipment_model": "DC120-2" if dc else "AC7-1",
                    "production_date": (now - timedelta(days=400 + 37 * e)).date(),
                },
            )
            for c in range(2 if dc else 1):
                connector, _ = Connector.objects.update_or_create(
                    operator=operator,
                    connector_id=f"{equipment.equipment_id}C{c + 1}",
                    defaults={
                        "station": station,
                        "equipment": equipment,
                        "connector_name": f"{e + 1}-{c + 1}号枪",
                        "connector_type": sc.ConnectorType.DC_GUN if dc else sc.ConnectorType.AC_PLUG,
                        "voltage_upper_limits": 750 if dc else 220,
                        "voltage_lower_limits": 200 if dc else 220,
                        "current": 250 if dc else 32,
                        "power": Decimal("60.0") if dc else Decimal("7.0"),
                        "national_standard": sc.NationalStandard.GB2015,
                        "park_no": f"B{rng.randint(1, 300):03d}",
                    },
                )
                _demo_policy(connector, now)
                if dc:
                    sessions[connector.connector_id] = _demo_orders(connector, rng, now, driver)

    # The directory was listed a month before the days it has orders for: the indicators count a connector from its
    # listing, and one listed today would have no past days in service.
    listed = past_start(now) - timedelta(days=30)
    for model in (Station, Equipment, Connector):
        model.objects.filter(operator__in=[o.pk for o in operators], created__gt=listed).update(created=listed)
    # Today, up to now: statuses, their pushes, the pulls and the day's orders (apps/demo/day.py); then the days
    # before, as their orders tell them.
    seeded_day(seed=seed, now=now)
    seeded_past(sessions, now=now)
    _demo_reconciliation(operators[0], now)
    _demo_roaming(operators, now)
    return [
        _set_login("admin", PLATFORM_ADMIN),
        _set_login("regulator", REGULATOR),
        _set_login("operator1", OPERATOR_MANAGER, operator=operators[0]),
    ]


def _demo_policy(connector: Connector, now: datetime) -> None:
    """The operator's declared tariff, as the daily policy pull would have found it at the start of the month."""
    effective = timezone.make_aware(datetime.combine(now.date().replace(day=1), time.min)) - timedelta(days=31)
    infos = [{"StartTime": start, "ElecPrice": Decimal(price), "SevicePrice": SERVICE_PRICE} for start, price in TARIFF]
    policy, _ = policy_observe(connector=connector, infos=infos, observed_at=effective, source=PolicySource.MANUAL)
    policy_check_record(
        connector=connector,
        checked_at=now - timedelta(hours=3),
        succ_stat=0,
        fail_reason=0,
        equip_biz_seq="",
        policy=policy,
    )


def _demo_orders(
    connector: Connector, rng: random.Random, now: datetime, driver: Driver
) -> list[tuple[datetime, datetime]]:
    """A finished session on each of the last PAST_DAYS days, pushed through the same service an operator's push
    reaches, returned as (start, end): the first started through the city platform for the demo driver (its session
    exists before its order, which pays for it), the others at the pile; priced at the period they started in, so a
    session that crosses into the next period shows as a price finding."""
    sessions = []
    for n in range(PAST_DAYS):
        start = timezone.localtime(now - timedelta(days=n + 1)).replace(
            hour=rng.randint(7, 20), minute=rng.randint(0, 59), second=0
        )
        minutes = rng.randint(25, 80)
        if n == 0:  # a portal-started session costs at most the hold a driver gives (HLHT_DRIVER_HOLD)
            minutes = min(minutes, 60)
        split = None
        if n == 1 and connector.connector_id.endswith("E01C1"):
            # One session per station runs from the flat period into the 10:00 peak and bills the peak at the flat
            # price: the order list always has price findings to show, whatever the seed.
            start, minutes = start.replace(hour=9, minute=30), 50
            split = start.replace(hour=10, minute=0)
        end = start + timedelta(minutes=minutes)
        power = (Decimal(minutes) * Decimal("0.75")).quantize(Decimal("0.01"))
        creator = conf().protocol.operator_id if n == 0 else connector.operator_id
        seq = f"{creator}{start:%Y%m%d%H%M%S}{zlib.crc32(connector.connector_id.encode()) % 10000:04d}"
        stop = StopReason.BMS if n % 2 else StopReason.USER
        payload = order_payload(connector.connector_id, seq, start, end, power, stop, split=split)
        if n == 0:
            ChargingSession.objects.get_or_create(
                start_charge_seq=seq,
                defaults={
                    "driver": driver,
                    "operator_id": connector.operator_id,
                    "connector": connector,
                    "requested_at": start,
                    "started_at": start,
                    "ended_at": end,
                    "state": StartChargeSeqStat.FINISHED,
                    "outcome": Outcome.COMPLETED,
                },
            )
        order_receive(
            operator_id=connector.operator_id,
            interface=OrderInterface.ORDER,
            payload=payload,
            received_at=end + timedelta(seconds=rng.choice([12, 25, 40])),
        )
        sessions.append((start, end))
    return sessions


def _demo_reconciliation(operator: Operator, now: datetime) -> None:
    """Yesterday's reconciliation of one operator: its list leaves one portal order out, gets one sum wrong and names
    an order the portal never received, so the dispute list has one of each to show."""
    day = timezone.localdate(now) - timedelta(days=1)
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
    held = list(portal_orders(operator.pk, start, end).order_by("start_charge_seq"))
    listed: list[dict[str, Any]] = [
        {"StartChargeSeq": o.start_charge_seq, "TotalPower": o.total_power, "TotalMoney": o.total_money}
        for o in held[1:]
    ]
    if listed:
        listed[0]["TotalMoney"] += Decimal("1.00")
    unknown = f"{conf().protocol.operator_id}{day:%Y%m%d}0000009999"
    listed.append({"StartChargeSeq": unknown, "TotalPower": Decimal("12.00"), "TotalMoney": Decimal("18.00")})
    orders_reconcile(
        operator_id=operator.pk,
        payload={
            "CheckOrderSeq": f"{operator.pk}{day:%Y%m%d}0100000001",
            "StartTime": format_datetime(start),
            "EndTime": format_datetime(end),
            "OrderCount": len(listed),
            "TotalOrderPower": sum((o["TotalPower"] for o in listed), Decimal(0)).quantize(Decimal("0.0001")),
            "TotalOrderMoney": sum((o["TotalMoney"] for o in listed), Decimal(0)),
            "ChargeOrders": listed,
        },
        received_at=now,
    )


def _demo_driver() -> Driver:
    """The demo driver, topped up: it pays for the portal-started demo orders as their pushes arrive."""
    driver = Driver.objects.filter(phone=DEMO_DRIVER_PHONE).first() or driver_register(
        phone=DEMO_DRIVER_PHONE, plate="京AD12345"
    )
    wallet_top_up(driver_id=driver.pk, amount=Decimal("5000"), key="demo", by="hlht_demo", note="演示充值")
    return driver


def _demo_roaming(operators: list[Operator], now: datetime) -> None:
    """The start commands the outbox held for the first portal-started demo sessions, and each operator's settlement
    agreement with this and last month's statements."""
    for order in ChargeOrder.objects.filter(
        operator__in=operators, start_charge_seq__startswith=conf().protocol.operator_id, connector__isnull=False
    ).order_by("start_time")[:6]:
        session = ChargingSession.objects.get(start_charge_seq=order.start_charge_seq)
        # What the outbox held for it: the start the portal sent, as the operator answered it.
        OutboundCommand.objects.get_or_create(
            session=session,
            kind=CommandKind.START,
            defaults={
                "state": CommandState.DONE,
                "attempts": 1,
                "answer": {
                    "StartChargeSeq": session.start_charge_seq,
                    "StartChargeSeqStat": 1,
                    "ConnectorID": order.connector_code,
                    "SuccStat": 0,
                    "FailReason": 0,
                },
            },
        )
    for operator in operators:
        SettlementAgreement.objects.update_or_create(
            operator=operator,
            effective_from=date(2025, 1, 1),
            defaults={"period": SettlementPeriod.MONTH, "commission_rate": Decimal("0.0300")},
        )
    today = timezone.localdate(now)
    statements_generate(today=today)
    statements_generate(today=today.replace(day=1))  # last month's too, ready to confirm
