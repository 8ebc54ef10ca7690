"""Beijing's 16 districts (GB/T 2260 AreaCodes) with approximate GCJ-02 extents, for the `district` quality rule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# Added on every side of a box: the boxes are rough (rounded outward to about half a kilometre) and a station on a
# district border may be geocoded a little over it. 0.025° is about 2.8 km north–south and 2.1 km east–west here.
MARGIN = Decimal("0.025")


@dataclass(frozen=True, slots=True)
class District:
    """One district: its AreaCode, Chinese name and bounding box (GCJ-02 degrees, before the margin)."""

    code: str
    name: str
    lng_min: Decimal
    lng_max: Decimal
    lat_min: Decimal
    lat_max: Decimal

    def contains(self, lng: Any, lat: Any, margin: Decimal = MARGIN) -> bool:
        """Whether (lng, lat) lies inside the box widened by `margin` degrees on every side."""
        x, y = Decimal(str(lng)), Decimal(str(lat))
        return (
            self.lng_min - margin <= x <= self.lng_max + margin and self.lat_min - margin <= y <= self.lat_max + margin
        )


# Extents of each district's administrative area, read off a map in WGS-84 and moved into GCJ-02 (in Beijing GCJ-02
# lies about 0.006° east and 0.0013° north of WGS-84). A box over-covers an irregular district, so this rule catches
# coordinates in the wrong part of the city (a Chaoyang AreaCode on a Yanqing site), not a point a street too far.
# The simulator (apps/simulator/geography.py) scatters stations around each district's centre; its widest spread
# stays inside these boxes plus MARGIN (tests/interconnect/test_quality.py checks both).
# fmt: off
_TABLE = (
    # code,    name,       lng_min,   lng_max,   lat_min,  lat_max
    ("110101", "东城区",   "116.370", "116.460", "39.850", "39.980"),
    ("110102", "西城区",   "116.300", "116.410", "39.855", "39.980"),
    ("110105", "朝阳区",   "116.345", "116.650", "39.810", "40.105"),
    ("110106", "丰台区",   "116.060", "116.500", "39.765", "39.915"),
    ("110107", "石景山区", "116.115", "116.270", "39.870", "39.995"),
    ("110108", "海淀区",   "116.045", "116.405", "39.880", "40.165"),
    ("110109", "门头沟区", "115.420", "116.240", "39.810", "40.170"),
    ("110111", "房山区",   "115.420", "116.265", "39.415", "39.925"),
    ("110112", "通州区",   "116.530", "116.955", "39.600", "40.030"),
    ("110113", "顺义区",   "116.440", "117.000", "40.000", "40.305"),
    ("110114", "昌平区",   "115.820", "116.505", "40.025", "40.395"),
    ("110115", "大兴区",   "116.195", "116.735", "39.440", "39.850"),
    ("110116", "怀柔区",   "116.280", "116.810", "40.240", "41.060"),
    ("110117", "平谷区",   "116.900", "117.510", "39.995", "40.385"),
    ("110118", "密云区",   "116.675", "117.515", "40.220", "40.855"),
    ("110119", "延庆区",   "115.420", "116.580", "40.265", "40.830"),
)
# fmt: on

DISTRICTS: dict[str, District] = {
    code: District(code, name, Decimal(w), Decimal(e), Decimal(s), Decimal(n)) for code, name, w, e, s, n in _TABLE
}


def district_get(area_code: Any) -> District | None:
    """The Beijing district of an AreaCode, or None when it is not one of the 16."""
    return DISTRICTS.get(area_code) if isinstance(area_code, str) else None
