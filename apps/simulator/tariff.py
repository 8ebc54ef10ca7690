"""Beijing time-of-use tariffs (valley 23–07, peak 10–15 and 18–21, flat otherwise) and per-period order details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from apps.protocol import CST, format_datetime

CENT = Decimal("0.01")
VALLEY, FLAT, PEAK = "谷", "平", "峰"

# (start second of the day, band): the PolicyInfo periods, sorted, the first at 00:00:00 as the standard asks.
BOUNDARIES: tuple[tuple[int, str], ...] = (
    (0, VALLEY),
    (7 * 3600, FLAT),
    (10 * 3600, PEAK),
    (15 * 3600, FLAT),
    (18 * 3600, PEAK),
    (21 * 3600, FLAT),
    (23 * 3600, VALLEY),
)


@dataclass(frozen=True, slots=True)
class Tariff:
    """Electricity price per band and a service price per band, 元/kWh with 4 decimals."""

    name: str
    elec: dict[str, Decimal]
    service: dict[str, Decimal]

    def policy_infos(self) -> list[dict[str, object]]:
        """PolicyInfos of query_equip_business_policy (StartTime HHmmss as a string, prices with 4 decimals)."""
        return [
            {
                "StartTime": f"{start // 3600:02d}{start % 3600 // 60:02d}00",
                "ElecPrice": self.elec[band],
                "SevicePrice": self.service[band],
            }
            for start, band in BOUNDARIES
        ]

    def describe_electricity(self) -> str:
        """ElectricityFee text of StationInfo (≤256 chars)."""
        return (
            f"峰时段(10:00-15:00,18:00-21:00){self.elec[PEAK]}元/度；"
            f"平时段(07:00-10:00,15:00-18:00,21:00-23:00){self.elec[FLAT]}元/度；"
            f"谷时段(23:00-07:00){self.elec[VALLEY]}元/度"
        )

    def describe_service(self) -> str:
        """ServiceFee text of StationInfo (≤100 chars)."""
        prices = {self.service[band] for band in (PEAK, FLAT, VALLEY)}
        if len(prices) == 1:
            return f"{prices.pop()}元/度"
        return f"峰{self.service[PEAK]}元/度，平{self.service[FLAT]}元/度，谷{self.service[VALLEY]}元/度"


def _prices(peak: str, flat: str, valley: str) -> dict[str, Decimal]:
    return {PEAK: Decimal(peak), FLAT: Decimal(flat), VALLEY: Decimal(valley)}


# Plausible Beijing price levels: general commercial supply, a cheaper large-user supply and residential-area supply
# (whose operators often lower the service fee at night to move charging into the valley).
TARIFFS: tuple[Tariff, ...] = (
    Tariff("一般工商业", _prices("1.1802", "0.7286", "0.3370"), _prices("0.8000", "0.8000", "0.8000")),
    Tariff("大工业", _prices("1.0553", "0.6758", "0.3084"), _prices("0.6000", "0.6000", "0.6000")),
    Tariff("居民小区", _prices("0.5883", "0.4883", "0.2883"), _prices("0.8000", "0.6000", "0.4000")),
)


@dataclass(frozen=True, slots=True)
class Segment:
    """A part of a session inside one tariff period."""

    start: float
    end: float
    band: str


def _period(moment: float) -> tuple[str, float]:
    """The band in force at `moment` and the epoch second its period ends."""
    local = datetime.fromtimestamp(moment, CST)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    second_of_day = (local - midnight).total_seconds()
    band, next_boundary = BOUNDARIES[0][1], 86400
    for boundary, boundary_band in BOUNDARIES:
        if boundary > second_of_day:
            next_boundary = boundary
            break
        band = boundary_band
    # China has kept no DST since 1991, so the next midnight is always 86400 s after this one.
    return band, (midnight + timedelta(seconds=next_boundary)).timestamp()


def band_at(moment: float) -> str:
    """Tariff band (峰/平/谷) at an epoch second."""
    return _period(moment)[0]


def segments(start: float, end: float) -> list[Segment]:
    """Split [start, end) (epoch seconds) at every period boundary, midnight included; [] when end <= start."""
    result: list[Segment] = []
    cursor = start
    while cursor < end:
        band, boundary = _period(cursor)
        stop = min(end, boundary)
        result.append(Segment(cursor, stop, band))
        cursor = stop
    return result


def split_energy(total_centi: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of an integer amount (0.01 kWh) by weights, so the parts add up exactly."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:  # a zero-length session: everything goes to its only period
        return [total_centi] + [0] * (len(weights) - 1)
    exact = [total_centi * w / weight_sum for w in weights]
    parts = [int(x) for x in exact]
    short = total_centi - sum(parts)
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[:short]:
        parts[i] += 1
    return parts


@dataclass(frozen=True, slots=True)
class Bill:
    """Totals and ChargeDetails of a session; TotalMoney = TotalElecMoney + TotalSeviceMoney by construction."""

    power: Decimal
    elec_money: Decimal
    service_money: Decimal
    details: list[dict[str, object]]

    @property
    def total_money(self) -> Decimal:
        return self.elec_money + self.service_money

    def overcharged(self, factor: Decimal) -> Bill:
        """The same energy billed at `factor` × the electricity price of every period, consistently: the figures
        agree with each other, but not with the policy the operator declared."""
        details: list[dict[str, object]] = []
        elec_total = Decimal("0.00")
        for detail in self.details:
            price = (Decimal(detail["ElecPrice"]) * factor).quantize(Decimal("0.0001"), ROUND_HALF_UP)  # type: ignore[arg-type]
            money = (Decimal(detail["DetailPower"]) * price).quantize(CENT, ROUND_HALF_UP)  # type: ignore[arg-type]
            elec_total += money
            details.append({**detail, "ElecPrice": price, "DetailElecMoney": money})
        return Bill(self.power, elec_total, self.service_money, details)


def bill(tariff: Tariff, start: float, end: float, energy_centi: int) -> Bill:
    """Price a constant-power session: energy split over the periods crossed in proportion to time spent in each."""
    parts = segments(start, end) or [Segment(start, start, band_at(start))]
    shares = split_energy(energy_centi, [p.end - p.start for p in parts])
    details: list[dict[str, object]] = []
    elec_total = service_total = Decimal("0.00")
    for part, centi in zip(parts, shares, strict=True):
        power = Decimal(centi).scaleb(-2)
        elec_price, service_price = tariff.elec[part.band], tariff.service[part.band]
        elec_money = (power * elec_price).quantize(CENT, ROUND_HALF_UP)
        service_money = (power * service_price).quantize(CENT, ROUND_HALF_UP)
        elec_total += elec_money
        service_total += service_money
        details.append(
            {
                "DetailStartTime": format_datetime(datetime.fromtimestamp(int(part.start), CST)),
                "DetailEndTime": format_datetime(datetime.fromtimestamp(int(part.end), CST)),
                "ElecPrice": elec_price,
                "SevicePrice": service_price,
                "DetailPower": power,
                "DetailElecMoney": elec_money,
                "DetailSeviceMoney": service_money,
            }
        )
    return Bill(Decimal(energy_centi).scaleb(-2), elec_total, service_total, details)
