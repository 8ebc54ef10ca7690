"""Charging sessions (portal-started and walk-in), the payloads describing them, and the energy ledger behind stats."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from apps.protocol import CST, format_date, format_datetime

from .directory import FAULT, OFFLINE, Connector, Station, local_day
from .seeding import stable_unit
from .tariff import Bill, bill

# StartChargeSeqStat (part 3 E1).
SEQ_STARTING, SEQ_CHARGING, SEQ_STOPPING, SEQ_FINISHED, SEQ_UNKNOWN = 1, 2, 3, 4, 5
# ChargeModel (Beijing B1): 1 started via the city platform, 2 with a card, 3 other card-less start (own app).
MODEL_PORTAL, MODEL_CARD, MODEL_APP = 1, 2, 3
# StopReason (part 3 E3).
STOP_USER, STOP_PLATFORM, STOP_BMS, STOP_FAULT, STOP_DISCONNECTED = 0, 1, 2, 3, 4

ZERO1 = Decimal("0.0")


def _dt(moment: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(moment), CST))


def _d1(value: float) -> Decimal:
    return Decimal(round(value * 10)).scaleb(-1)


def _d2(centi: int) -> Decimal:
    return Decimal(centi).scaleb(-2)


class ChargeSession:
    """One session on one connector. Energy grows linearly at `kw` from `start` until `target` (0.01 kWh) is reached."""

    __slots__ = (
        "accepted",
        "battery_volts",
        "bill",
        "capacity",
        "connector",
        "end",
        "energy",
        "ident",
        "kw",
        "meter_start",
        "model",
        "seq",
        "soc0",
        "start",
        "state",
        "stop_reason",
        "target",
        "user",
    )

    def __init__(
        self, seq: str, connector: Connector, model: int, accepted: float, kw: float, target: int, user: str
    ) -> None:
        self.seq = seq
        self.connector = connector
        self.model = model
        self.state = SEQ_STARTING
        self.accepted = accepted
        self.start = accepted
        self.end = 0.0
        self.kw = kw
        self.target = target
        self.energy = 0
        self.user = user
        self.soc0 = 0.0
        self.capacity = 60.0
        self.battery_volts = 400.0
        self.meter_start = 0
        self.ident = ""
        self.stop_reason = STOP_BMS
        self.bill: Bill | None = None

    @property
    def portal(self) -> bool:
        return self.model == MODEL_PORTAL

    @property
    def natural_end(self) -> float:
        """When the battery is full (target reached) at constant power."""
        return self.start + self.target * 36.0 / self.kw

    def energy_at(self, moment: float) -> int:
        """Delivered energy in 0.01 kWh (kW × s / 36 = 0.01 kWh)."""
        if self.state == SEQ_STARTING or moment <= self.start:
            return 0
        if self.state == SEQ_FINISHED:
            return self.energy
        return min(self.target, int(self.kw * (moment - self.start) / 36.0))

    def finish(self, moment: float, reason: int) -> Bill:
        self.energy = self.energy_at(moment)
        self.end = moment
        self.state = SEQ_FINISHED
        self.stop_reason = reason
        self.bill = bill(self.connector.station.tariff, self.start, self.end, self.energy)
        return self.bill

    # -- payloads ---------------------------------------------------------------------------------------------------

    def snapshot(self, moment: float) -> dict[str, Any]:
        """query_equip_charge_status answer = notification_equip_charge_status input (part 3 §3.5)."""
        energy = self.energy_at(moment)
        charging = self.state in (SEQ_CHARGING, SEQ_STOPPING) and energy < self.target
        if self.state == SEQ_FINISHED and self.bill is not None:
            current_bill, sample = self.bill, self.end
        else:
            current_bill = bill(self.connector.station.tariff, self.start, max(self.start, moment), energy)
            sample = moment
        if self.connector.is_dc:
            volts = self.battery_volts
            soc = min(100.0, self.soc0 + energy / 100.0 / self.capacity * 100.0)
        else:
            volts, soc = 220.0, 0.0  # AC piles cannot read the battery
        status = self.connector.status
        return {
            "StartChargeSeq": self.seq,
            "StartChargeSeqStat": self.state,
            "ConnectorID": self.connector.id,
            # E2 has no 0 (离网): an offline pile reports as faulty here.
            "ConnectorStatus": FAULT if status == OFFLINE else status,
            "CurrentA": _d1(self.kw * 1000 / volts) if charging else ZERO1,
            "CurrentB": ZERO1,
            "CurrentC": ZERO1,
            "VoltageA": _d1(volts) if charging else ZERO1,
            "VoltageB": ZERO1,
            "VoltageC": ZERO1,
            "Soc": _d1(soc),
            "StartTime": _dt(self.start),
            "EndTime": _dt(sample),
            "TotalPower": current_bill.power,
            "ElecMoney": current_bill.elec_money,
            "SeviceMoney": current_bill.service_money,
            "TotalMoney": current_bill.total_money,
            "SumPeriod": len(current_bill.details),
            "ChargeDetails": current_bill.details,
        }

    def order(self) -> dict[str, Any]:
        """notification_charge_order_info input (part 3 §3.9); only for a finished session."""
        if self.bill is None:
            raise ValueError("session not finished")
        return {
            "StartChargeSeq": self.seq,
            "ConnectorID": self.connector.id,
            "StartTime": _dt(self.start),
            "EndTime": _dt(self.end),
            "TotalPower": self.bill.power,
            "TotalElecMoney": self.bill.elec_money,
            "TotalSeviceMoney": self.bill.service_money,
            "TotalMoney": self.bill.total_money,
            "StopReason": self.stop_reason,
            "SumPeriod": len(self.bill.details),
            "ChargeDetails": self.bill.details,
        }

    def bonus_order(self) -> dict[str, Any]:
        """Beijing's notification_charge_order_info_for_bonus input: the order plus the reward-scheme fields."""
        payload = self.order()
        connector = self.connector
        payload.update(
            {
                "ChargeModel": self.model,
                "UserName": self.user,
                "StationID": connector.station.sid,
                "EquipmentID": connector.equipment.id,
                "ConnectorPower": _d1(connector.power),
                "ChargeLast": int(self.end) - int(self.start),
                "MeterValueStart": _d2(self.meter_start),
                "MeterValueEnd": _d2(self.meter_start + self.energy),
            }
        )
        return payload


class EnergyLedger:
    """Energy of finished orders per day, station and connector (0.01 kWh), for query_station_stats by order end date.

    Days before the simulator started have no orders of ours; they are synthesised from the seed (a plausible
    utilisation per connector and day) so that a portal asking for last month's figures gets realistic ones.
    """

    def __init__(self, seed: int, start: float, retention_days: int = 40) -> None:
        self.seed = seed
        self.start_day = local_day(start).toordinal()
        self.retention_days = retention_days
        self._days: dict[int, defaultdict[str, defaultdict[str, int]]] = {}

    def record(self, session: ChargeSession) -> None:
        day = local_day(session.end).toordinal()
        stations = self._days.get(day)
        if stations is None:
            stations = self._days[day] = defaultdict(lambda: defaultdict(int))
            for old in [d for d in self._days if d < day - self.retention_days]:
                del self._days[old]
        stations[session.connector.station.sid][session.connector.id] += session.energy

    def _synthetic(self, connector: Connector, cid: str, day: int) -> int:
        hours = stable_unit(self.seed, "history", cid, day) * (5.0 if connector.is_dc else 7.0)
        return int(connector.power * hours * 90)  # kW × h × 0.9 utilisation factor, in 0.01 kWh

    def stats(self, st: Station, first: date, last: date) -> dict[str, Any]:
        """StationStats with StationElectricity = Σ EquipmentElectricity = Σ ConnectorElectricity, each at 0.1 kWh."""
        created = local_day(st.created).toordinal()
        equipment_infos: list[dict[str, Any]] = []
        station_deci = 0
        for equipment in st.equipments:
            connector_infos: list[dict[str, Any]] = []
            equipment_deci = 0
            for connector in equipment.connectors:
                cid = connector.id
                centi = 0
                for day in range(first.toordinal(), last.toordinal() + 1):
                    if day < self.start_day:
                        if day >= created:
                            centi += self._synthetic(connector, cid, day)
                    else:
                        stations = self._days.get(day)
                        if stations is not None and st.sid in stations:
                            centi += stations[st.sid].get(cid, 0)
                deci = (centi + 5) // 10  # half-up to 0.1 kWh; sums of rounded parts keep the invariant exact
                equipment_deci += deci
                connector_infos.append({"ConnectorID": cid, "ConnectorElectricity": Decimal(deci).scaleb(-1)})
            station_deci += equipment_deci
            equipment_infos.append(
                {
                    "EquipmentID": equipment.id,
                    "EquipmentElectricity": Decimal(equipment_deci).scaleb(-1),
                    "ConnectorStatsInfos": connector_infos,
                }
            )
        return {
            "StationStats": {
                "StationID": st.sid,
                "StartTime": format_date(first),
                "EndTime": format_date(last),
                "StationElectricity": Decimal(station_deci).scaleb(-1),
                "EquipmentStatsInfos": equipment_infos,
            }
        }
