"""The operator's directory (stations → equipment → connectors): compact `__slots__` objects generated from a seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from apps.protocol import CST, format_date

from .geography import (
    BRANDS,
    DISTRICT_WEIGHTS,
    DISTRICTS,
    LAT_MAX,
    LAT_MIN,
    LNG_MAX,
    LNG_MIN,
    MAKERS,
    PLACES,
    SITE_SUFFIX,
    District,
)
from .seeding import seeded, stable_unit
from .tariff import TARIFFS, Tariff

MICRO = 1_000_000
MAX_CONNECTORS = 20
STATION_ID_LENGTH = 12  # AreaCode (6) + 6-digit station number: ConnectorIDs can be parsed back without an index

# Connector Status (E7), ParkStatus (E8), LockStatus (E9).
OFFLINE, IDLE, PLUGGED, CHARGING, RESERVED, FAULT = 0, 1, 2, 3, 4, 255
PARK_FREE, PARK_TAKEN = 10, 50
LOCK_NONE, LOCK_OPEN, LOCK_CLOSED = 0, 10, 50

# StationType (E1) and StationStatus (E2) mixes of a Beijing public-charging operator.
STATION_TYPES = (1, 50, 100, 101, 102, 103, 255)
STATION_TYPE_WEIGHTS = (80, 3, 5, 2, 4, 4, 2)
STATION_STATUSES = (50, 6, 1, 5)
STATION_STATUS_WEIGHTS = (95, 2, 2, 1)
# Construction (E3) for public stations; dedicated stations get the site that fits them.
CONSTRUCTIONS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255)
CONSTRUCTION_WEIGHTS = (22, 6, 8, 14, 6, 10, 3, 3, 16, 6, 2, 4)
DEDICATED_CONSTRUCTION = {100: (6, 255), 101: (3, 255), 102: (5, 3), 103: (6, 9, 10), 50: (1,)}
DC_POWERS = (60, 80, 120, 160, 180, 240, 360)
DC_POWER_WEIGHTS = (20, 10, 30, 15, 10, 10, 5)
MATCH_CARS = {100: "公交车", 101: "环卫车", 102: "物流车", 103: "出租车", 50: "私家车"}
HOURS = ("00:00-24:00", "07:00-22:00", "08:00-20:00")
PARK_FEES = ("充电免停车费", "前2小时免费，超出后每小时5元", "按停车场标准收费")
PAYMENTS = ("线上", "刷卡", "线上")

# The four ways a station record can be broken under the invalid_records fault (each breaks one rule of part 2).
INVALID_KINDS = ("bad_enum", "long_name", "outside_china", "bad_connector_type")


def _nonzero_last(micro: int) -> int:
    # A float whose 6th decimal is non-zero prints with exactly 6 decimals, which lets the stdlib C encoder
    # emit coordinates with the scale the standard asks for (see Directory.station_info).
    return micro + 1 if micro % 10 == 0 else micro


class Connector:
    """One charging connector (gun); its ID is derived from its equipment's, so none is stored."""

    __slots__ = (
        "ctype",
        "current",
        "equipment",
        "lock",
        "meter",
        "no",
        "park",
        "power",
        "session",
        "standard",
        "status",
        "status_time",
        "volt_hi",
        "volt_lo",
    )

    def __init__(
        self, equipment: Equipment, no: int, ctype: int, power: float, volts: tuple[int, int], current: int, std: int
    ) -> None:
        self.equipment = equipment
        self.no = no
        self.ctype = ctype
        self.power = power
        self.volt_hi, self.volt_lo = volts
        self.current = current
        self.standard = std
        self.status = IDLE
        self.park = PARK_FREE
        self.lock = LOCK_NONE
        self.status_time = 0.0
        self.session: Any = None
        self.meter = -1  # energy meter reading in 0.01 kWh; -1 until the first session sets a plausible start

    @property
    def id(self) -> str:
        return f"{self.equipment.station.sid}{self.equipment.no:03d}{self.no:02d}"

    @property
    def station(self) -> Station:
        return self.equipment.station

    @property
    def is_dc(self) -> bool:
        return self.ctype == 4

    def __repr__(self) -> str:
        return f"<Connector {self.id} status={self.status}>"


class Equipment:
    """One charging pile: 1–2 DC guns or one AC socket/plug."""

    __slots__ = ("connectors", "etype", "lat", "lng", "maker", "model", "no", "production", "station")

    def __init__(self, station: Station, no: int, etype: int, maker: int, model: str, production: int) -> None:
        self.station = station
        self.no = no
        self.etype = etype
        self.maker = maker
        self.model = model
        self.production = production  # date ordinal
        self.lat = station.lat
        self.lng = station.lng
        self.connectors: list[Connector] = []

    @property
    def id(self) -> str:
        return f"{self.station.sid}{self.no:03d}"

    @property
    def power(self) -> float:
        return round(sum(c.power for c in self.connectors), 1)  # round: float sums drift (45.3 + 30.0 ≠ 75.3)


class Station:
    """One station; `mtime` is the latest modification of the station or anything in it (for LastQueryTime)."""

    __slots__ = (
        "address",
        "construction",
        "created",
        "district",
        "equipments",
        "hours",
        "index",
        "lat",
        "lng",
        "locks",
        "mtime",
        "name",
        "owner",
        "park_fee",
        "park_nums",
        "payment",
        "pictures",
        "removed",
        "sid",
        "status",
        "stype",
        "support_order",
        "tariff_index",
        "tel",
    )
    # Filled by Directory._generate right after construction (seeded draws), so declared here for the type checker.
    lat: int  # micro-degrees
    lng: int
    stype: int
    construction: int
    status: int
    name: str
    address: str
    tel: str
    owner: str
    locks: bool
    tariff_index: int
    hours: int
    park_fee: int
    payment: int
    support_order: bool
    pictures: int
    created: int
    park_nums: int

    def __init__(self, index: int, district: District) -> None:
        self.index = index
        self.district = district
        self.sid = f"{district.code}{index + 1:06d}"
        self.equipments: list[Equipment] = []
        self.removed = False
        self.mtime = 0

    @property
    def tariff(self) -> Tariff:
        return TARIFFS[self.tariff_index]

    @property
    def connectors(self) -> Iterator[Connector]:
        for equipment in self.equipments:
            yield from equipment.connectors

    @property
    def in_service(self) -> bool:
        return self.status == 50 and not self.removed

    def touch(self, moment: int) -> None:
        self.mtime = max(self.mtime, moment)


class Directory:
    """All stations of one operator, generated deterministically from the seed (one small RNG per station)."""

    def __init__(self, operator_id: str, seed: int, count: int, start: float) -> None:
        self.operator_id = operator_id
        self.seed = seed
        self.start = int(start)
        rng = seeded(seed, operator_id, "operator")
        self.brand = rng.choice(BRANDS)
        self.service_tel = f"400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        # A few stations are run on behalf of another owner (EquipmentOwnerID ≠ OperatorID).
        self.other_owner = f"MA{rng.randint(0, 9_999_999):07d}"
        self.stations: list[Station] = []
        self.by_id: dict[str, Station] = {}
        self.connectors: list[Connector] = []  # flat, for picking random connectors in O(1)
        self.version = 0
        self._changed_cache: tuple[tuple[int | None, int], list[Station]] | None = None
        for index in range(count):
            self._append(self._generate(index, created=None))

    # -- generation -------------------------------------------------------------------------------------------------

    def _generate(self, index: int, created: int | None) -> Station:
        rng = seeded(self.seed, self.operator_id, "station", index)
        district = rng.choices(DISTRICTS, weights=DISTRICT_WEIGHTS)[0]
        st = Station(index, district)
        lat = district.lat + max(-2.2, min(2.2, rng.gauss(0, 1))) * district.spread
        lng = district.lng + max(-2.2, min(2.2, rng.gauss(0, 1))) * district.spread * 1.3
        st.lat = _nonzero_last(round(min(LAT_MAX, max(LAT_MIN, lat)) * MICRO))
        st.lng = _nonzero_last(round(min(LNG_MAX, max(LNG_MIN, lng)) * MICRO))
        st.stype = rng.choices(STATION_TYPES, weights=STATION_TYPE_WEIGHTS)[0]
        if st.stype in DEDICATED_CONSTRUCTION:
            st.construction = rng.choice(DEDICATED_CONSTRUCTION[st.stype])
        else:
            st.construction = rng.choices(CONSTRUCTIONS, weights=CONSTRUCTION_WEIGHTS)[0]
        st.status = rng.choices(STATION_STATUSES, weights=STATION_STATUS_WEIGHTS)[0]
        st.name = self._name(rng, st)
        road = rng.choice(district.roads)
        st.address = f"北京市{district.name}{road}{rng.randint(1, 399)}号"
        st.tel = f"010-{rng.randint(5000_0000, 8999_9999)}"
        st.owner = self.other_owner if rng.random() < 0.05 else ""
        st.locks = rng.random() < 0.15
        st.tariff_index = 2 if st.construction == 1 else rng.choice((0, 0, 1))
        st.hours = 0 if st.construction in (6, 10, 11) or rng.random() < 0.7 else rng.choice((1, 2))
        st.park_fee = rng.randrange(len(PARK_FEES))
        st.payment = rng.randrange(len(PAYMENTS))
        st.support_order = rng.random() < 0.1
        st.pictures = rng.randint(0, 2)
        if created is None:
            created = self.start - rng.randint(86_400, 3 * 365 * 86_400)
            st.mtime = rng.randint(created, self.start - 3600)
        else:
            st.mtime = created
        st.created = created
        self._equip(rng, st, rng.randint(1, MAX_CONNECTORS), created)
        st.park_nums = sum(1 for _ in st.connectors) + rng.choice((0, 0, 2, 4))
        return st

    def _name(self, rng: random.Random, st: Station) -> str:
        suffix = rng.choice(SITE_SUFFIX[st.construction])
        return f"{self.brand}{st.district.name[:-1]}{rng.choice(PLACES)}{suffix}充电站"

    def _equip(self, rng: random.Random, st: Station, connectors: int, created: int) -> None:
        if st.stype in (100, 101, 102, 103):
            dc_share = 1.0
        elif st.stype == 50:
            dc_share = 0.0
        else:
            dc_share = rng.choice((0.0, 0.3, 0.5, 0.7, 1.0, 1.0))
        remaining = connectors
        while remaining > 0:
            if rng.random() < dc_share:
                guns = 2 if remaining >= 2 and rng.random() < 0.6 else 1
                self._add_equipment(rng, st, created, dc=True, guns=guns)
                remaining -= guns
            else:
                self._add_equipment(rng, st, created, dc=False, guns=1)
                remaining -= 1

    def _add_equipment(self, rng: random.Random, st: Station, created: int, *, dc: bool, guns: int) -> Equipment:
        maker = rng.randrange(len(MAKERS))
        models = MAKERS[maker][2]
        made = local_day(created)
        production = max(date(2014, 1, 1).toordinal(), made.toordinal() - rng.randint(30, 365))
        standard = 2 if date.fromordinal(production).year >= 2016 else 1
        equipment = Equipment(
            st, len(st.equipments) + 1, 1 if dc else 2, maker, models[rng.randrange(2)] if dc else models[2], production
        )
        equipment.lat = _nonzero_last(st.lat + rng.randint(-200, 200))
        equipment.lng = _nonzero_last(st.lng + rng.randint(-200, 200))
        if dc:
            total = rng.choices(DC_POWERS, weights=DC_POWER_WEIGHTS)[0]
            per_gun = float(total // guns)
            volts = (1000, 200) if total >= 240 else (750, 200)
            for no in range(1, guns + 1):
                equipment.connectors.append(Connector(equipment, no, 4, per_gun, volts, round(per_gun * 2), standard))
        else:
            ctype = rng.choice((2, 3, 3))
            equipment.connectors.append(Connector(equipment, 1, ctype, 7.0, (220, 220), 32, standard))
        st.equipments.append(equipment)
        for connector in equipment.connectors:
            self._initial_status(st, connector)
        return equipment

    @staticmethod
    def _initial_status(st: Station, connector: Connector) -> None:
        if st.status in (1, 5):  # under construction or closed: the piles are not on the network
            connector.status = OFFLINE
        elif st.status == 6:
            connector.status = FAULT
        connector.lock = LOCK_CLOSED if st.locks else LOCK_NONE

    def _append(self, st: Station) -> None:
        self.stations.append(st)
        self.by_id[st.sid] = st
        self.connectors.extend(st.connectors)
        self.version += 1

    # -- lookups ----------------------------------------------------------------------------------------------------

    def station(self, sid: str) -> Station | None:
        st = self.by_id.get(sid)
        return None if st is None or st.removed else st

    def connector(self, cid: str) -> Connector | None:
        """Parse `StationID + equipment no (3) + connector no (2)` back to the object; None when unknown or gone."""
        if not isinstance(cid, str) or len(cid) != STATION_ID_LENGTH + 5 or not cid.isascii() or not cid.isdigit():
            return None
        st = self.station(cid[:STATION_ID_LENGTH])
        eq_no, no = int(cid[STATION_ID_LENGTH:-2]), int(cid[-2:])
        if st is None or not 1 <= eq_no <= len(st.equipments):
            return None
        connectors = st.equipments[eq_no - 1].connectors
        return connectors[no - 1] if 1 <= no <= len(connectors) else None

    def changed_since(self, since: int | None) -> list[Station]:
        """Stations (in ID order of creation) whose own or any child's modification is later than `since`.

        Cached per (since, version): a paging crawl asks the same question once per page.
        """
        key = (since, self.version)
        if self._changed_cache is not None and self._changed_cache[0] == key:
            return self._changed_cache[1]
        live = (st for st in self.stations if not st.removed)
        result = list(live) if since is None else [st for st in live if st.mtime > since]
        self._changed_cache = (key, result)
        return result

    # -- changes over time (each bumps the station's mtime) ---------------------------------------------------------

    def add_station(self, moment: int) -> Station:
        st = self._generate(len(self.stations), created=moment)
        st.status = 50  # a newly commissioned station opens in service
        for connector in st.connectors:
            connector.status = IDLE
            connector.status_time = float(moment)
        self._append(st)
        return st

    def rename_station(self, st: Station, moment: int) -> None:
        rng = seeded(self.seed, self.operator_id, "rename", st.index, moment)
        name = self._name(rng, st)
        st.name = name if name != st.name else f"{name[:-3]}二期充电站"
        st.touch(moment)
        self.version += 1

    def add_connector(self, st: Station, moment: int) -> Connector | None:
        """Install one more AC pile; None when the station already has the maximum of 20 connectors."""
        if sum(1 for _ in st.connectors) >= MAX_CONNECTORS:
            return None
        rng = seeded(self.seed, self.operator_id, "add", st.index, len(st.equipments))
        equipment = self._add_equipment(rng, st, moment, dc=False, guns=1)
        connector = equipment.connectors[0]
        connector.status = IDLE if st.in_service else connector.status
        connector.status_time = float(moment)
        self.connectors.append(connector)
        st.park_nums += 1
        st.touch(moment)
        self.version += 1
        return connector

    def derate_connector(self, connector: Connector, power: float, moment: int) -> None:
        """Change a connector's rated power (a failed power module, a firmware cap): a connector-level change."""
        connector.power = float(round(power, 1))
        connector.station.touch(moment)
        self.version += 1

    def remove_station(self, st: Station, moment: int) -> None:
        st.removed = True
        st.touch(moment)
        self.version += 1

    # -- rendering (StationInfo of public-information.md §2.2) ------------------------------------------------------

    def station_info(self, st: Station, invalid: str | None = None) -> dict[str, Any]:
        """StationInfo as JSON-ready values. Fixed-scale numbers are floats whose shortest repr has exactly the
        standard's scale (Power one decimal, coordinates six with a non-zero last digit), so a page can go through
        the stdlib C encoder instead of the much slower Decimal-aware one."""
        operator_id, sid = self.operator_id, st.sid
        equipments: list[dict[str, Any]] = []
        for equipment in st.equipments:
            maker_id, maker_name, _ = MAKERS[equipment.maker]
            # IDs built from the parent's string here, not through the .id properties: this loop is the crawl's cost.
            equipment_id = f"{sid}{equipment.no:03d}"
            park_no = equipment_id[-3:]
            connectors = [
                {
                    "ConnectorID": f"{equipment_id}{c.no:02d}",
                    "ConnectorName": GUN_NAMES[c.no],
                    "ConnectorType": c.ctype,
                    "VoltageUpperLimits": c.volt_hi,
                    "VoltageLowerLimits": c.volt_lo,
                    "Current": c.current,
                    "Power": c.power,
                    "ParkNo": park_no,
                    "NationalStandard": c.standard,
                }
                for c in equipment.connectors
            ]
            equipments.append(
                {
                    "EquipmentID": equipment_id,
                    "ManufacturerID": maker_id,
                    "ManufacturerName": maker_name,
                    "EquipmentModel": equipment.model,
                    "ProductionDate": _date_text(equipment.production),
                    "EquipmentType": equipment.etype,
                    "EquipmentLng": equipment.lng / MICRO,
                    "EquipmentLat": equipment.lat / MICRO,
                    "Power": equipment.power,
                    "EquipmentName": f"{equipment.no}号{'直流' if equipment.etype == 1 else '交流'}桩",
                    "ConnectorInfos": connectors,
                }
            )
        electricity_fee, service_fee = _fee_texts(st.tariff_index)
        info: dict[str, Any] = {
            "StationID": sid,
            "OperatorID": operator_id,
            "EquipmentOwnerID": st.owner or operator_id,
            "StationName": st.name,
            "CountryCode": "CN",
            "AreaCode": st.district.code,
            "Address": st.address,
            "StationTel": st.tel,
            "ServiceTel": self.service_tel,
            "StationType": st.stype,
            "StationStatus": st.status,
            "ParkNums": st.park_nums,
            "StationLng": st.lng / MICRO,
            "StationLat": st.lat / MICRO,
            "SiteGuide": f"从{st.address[3:]}入口进入，按充电指示牌行驶",
            "Construction": st.construction,
            "Pictures": [f"https://img.example.com/{operator_id}/{sid}/{n}.jpg" for n in range(1, st.pictures + 1)],
            "MatchCars": MATCH_CARS.get(st.stype, "小型乘用车"),
            "ParkInfo": f"地面停车场，共{st.park_nums}个充电车位",
            "BusineHours": HOURS[st.hours],
            "ElectricityFee": electricity_fee,
            "ServiceFee": service_fee,
            "ParkFee": PARK_FEES[st.park_fee],
            "Payment": PAYMENTS[st.payment],
            "SupportOrder": int(st.support_order),
            "EquipmentInfos": equipments,
        }
        if invalid is not None:
            _break(info, invalid)
        return info

    def invalid_kind(self, st: Station, rate: float) -> str | None:
        """The defect (if any) this station carries under the invalid_records fault, stable across pages and crawls."""
        if stable_unit(self.seed, "invalid", st.index) >= rate:
            return None
        return INVALID_KINDS[st.index % len(INVALID_KINDS)]


GUN_NAMES = {no: f"{no}号枪" for no in range(1, MAX_CONNECTORS + 1)}


@lru_cache(maxsize=4096)
def _date_text(ordinal: int) -> str:
    return format_date(date.fromordinal(ordinal))


@lru_cache(maxsize=len(TARIFFS))
def _fee_texts(tariff_index: int) -> tuple[str, str]:
    tariff = TARIFFS[tariff_index]
    return tariff.describe_electricity(), tariff.describe_service()


def _break(info: dict[str, Any], kind: str) -> None:
    if kind == "bad_enum":
        info["StationType"] = 7  # not in E1
    elif kind == "long_name":
        info["StationName"] = (info["StationName"] + "（临时试运营站点，名称超长用于校验）" * 3)[:60]  # > 50
    elif kind == "outside_china":
        info["StationLng"], info["StationLat"] = 2.352221, 48.856613  # Paris
    elif kind == "bad_connector_type":
        info["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorType"] = 9  # not in E5


def status_info(connector: Connector) -> dict[str, Any]:
    """ConnectorStatusInfo (part 2 §2.5, final text: no currents, voltages or SOC)."""
    return {
        "ConnectorID": connector.id,
        "Status": connector.status,
        "ParkStatus": connector.park,
        "LockStatus": connector.lock,
    }


def station_status(station: Station) -> dict[str, Any]:
    return {"StationID": station.sid, "ConnectorStatusInfos": [status_info(c) for c in station.connectors]}


def local_day(moment: float) -> date:
    """Calendar day (Asia/Shanghai) of an epoch second."""
    return datetime.fromtimestamp(moment, CST).date()
