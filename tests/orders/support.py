"""Orders as an operator pushes them, for the order and reconciliation tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.operators.models import Operator
from apps.pricing.services import policy_observe
from apps.protocol import CST, format_datetime
from apps.stations.models import Connector
from tests import factories
from tests.caller import OPERATOR_ID

CENT = Decimal("0.01")
PORTAL = "MA01HLHT0"
# A Beijing time-of-use tariff: (StartTime, electricity, service) 元/kWh.
TARIFF = [("000000", "0.3370", "0.8000"), ("070000", "0.7286", "0.8000"), ("100000", "1.1802", "0.8000"),
          ("150000", "0.7286", "0.8000"), ("180000", "1.1802", "0.8000"), ("210000", "0.7286", "0.8000"),
          ("230000", "0.3370", "0.8000")]  # fmt: skip
_serial = itertools.count(1)


def directory(operator_id: str = OPERATOR_ID) -> Connector:
    """One station S1 / pile E1 / DC connector C1 (60 kW) of the operator, with its tariff on file since 2026."""
    operator = Operator.objects.get(pk=operator_id)
    station = factories.station(
        operator, "S1", electricity_fee="峰1.1802 平0.7286 谷0.3370 元/度", service_fee="0.8元/度"
    )
    connector = factories.connector(factories.equipment(station, "E1"), "C1", power=Decimal("60.0"))
    policy_observe(
        connector=connector,
        infos=[{"StartTime": s, "ElecPrice": Decimal(e), "SevicePrice": Decimal(v)} for s, e, v in TARIFF],
        observed_at=datetime(2026, 1, 1, tzinfo=CST),
    )
    return connector


def seq(creator: str = OPERATOR_ID) -> str:
    return f"{creator}20261201{next(_serial):010d}"


def started(connector_id: str = "C1", operator_id: str = OPERATOR_ID, *, hold: str = "100", top_up: str = "300",
            live: bool = False, number: str | None = None) -> str:  # fmt: skip
    """A session the portal started for a driver (topped up, the hold taken) on the operator's connector: the
    StartChargeSeq its order push may carry. Finished unless `live` (its hold then released, as the stop push does);
    a live one is 启动中, as the portal leaves it when it sends the start."""
    from django.utils import timezone

    from apps.drivers.services import driver_register, wallet_hold, wallet_release, wallet_top_up
    from apps.orders.choices import StartChargeSeqStat

    number = number or seq(PORTAL)
    driver = driver_register(phone=f"139{next(_serial):08d}")
    wallet_top_up(driver_id=driver.pk, amount=Decimal(top_up), key=f"PAY-{number}")
    wallet_hold(driver_id=driver.pk, amount=Decimal(hold), seq=number, minimum=Decimal("10"))
    connector = Connector.objects.get(operator_id=operator_id, connector_id=connector_id)
    state = StartChargeSeqStat.STARTING if live else StartChargeSeqStat.FINISHED
    factories.ChargingSessionFactory(driver=driver, connector=connector, start_charge_seq=number,
                                     requested_at=timezone.now(), state=state)  # fmt: skip
    if not live:
        wallet_release(driver_id=driver.pk, seq=number)
    return number


def _price(moment: datetime) -> tuple[Decimal, Decimal]:
    clock = moment.strftime("%H%M%S")
    start, elec, service = next(row for row in reversed(TARIFF) if row[0] <= clock)
    return Decimal(elec), Decimal(service)


def order(
    start: datetime = datetime(2026, 12, 1, 9, 30, tzinfo=CST),
    minutes: int = 60,
    kwh: str = "30.00",
    *,
    number: str | None = None,
    connector: str = "C1",
    **overrides: Any,
) -> dict[str, Any]:
    """A consistent notification_charge_order_info: details split at tariff boundaries, priced by TARIFF."""
    end = start + timedelta(minutes=minutes)
    cuts = [start]
    for boundary, _, _ in TARIFF[1:]:
        moment = start.replace(hour=int(boundary[:2]), minute=0, second=0)
        if start < moment < end:
            cuts.append(moment)
    cuts.append(end)
    total = Decimal(kwh)
    details, left = [], total
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        share = (
            left
            if i == len(cuts) - 2
            else (total * Decimal((b - a).total_seconds()) / Decimal(minutes * 60)).quantize(CENT)
        )
        left -= share
        elec_price, service_price = _price(a)
        details.append(
            {
                "DetailStartTime": format_datetime(a),
                "DetailEndTime": format_datetime(b),
                "ElecPrice": elec_price,
                "SevicePrice": service_price,
                "DetailPower": share,
                "DetailElecMoney": (share * elec_price).quantize(CENT, ROUND_HALF_UP),
                "DetailSeviceMoney": (share * service_price).quantize(CENT, ROUND_HALF_UP),
            }
        )
    elec = sum((d["DetailElecMoney"] for d in details), Decimal("0.00"))
    service = sum((d["DetailSeviceMoney"] for d in details), Decimal("0.00"))
    payload = {
        "StartChargeSeq": number or seq(),
        "ConnectorID": connector,
        "StartTime": format_datetime(start),
        "EndTime": format_datetime(end),
        "TotalPower": total,
        "TotalElecMoney": elec,
        "TotalSeviceMoney": service,
        "TotalMoney": elec + service,
        "StopReason": 2,
        "SumPeriod": len(details),
        "ChargeDetails": details,
    }
    payload.update(overrides)
    return payload


def bonus(payload: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The same order as Beijing's bonus push: the pile, the meter, the duration, the customer."""
    start = datetime.strptime(payload["StartTime"], "%Y-%m-%d %H:%M:%S")
    end = datetime.strptime(payload["EndTime"], "%Y-%m-%d %H:%M:%S")
    extra = {
        "ChargeModel": 1 if payload["StartChargeSeq"].startswith(PORTAL) else 3,
        "UserName": "张三丰",
        "StationID": "S1",
        "EquipmentID": "E1",
        "ConnectorPower": Decimal("60.0"),
        "ChargeLast": int((end - start).total_seconds()),
        "MeterValueStart": Decimal("1000.00"),
        "MeterValueEnd": Decimal("1000.00") + payload["TotalPower"],
    }
    return {**payload, **extra, **overrides}
