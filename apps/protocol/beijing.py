"""Beijing's 16 districts (GB/T 2260 AreaCodes, names, GCJ-02 extents and centres) and the city's and China's bounds.

The one table of them: the portal's data-quality rules check coordinates against it, the simulator places its
stations by it, and the regulators' figures name districts from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["CHINA", "CITY", "DISTRICTS", "MARGIN", "Bounds", "District"]

# Added on every side of a box: the boxes are rough (rounded outward to about half a kilometre) and a station on a
# district border may be geocoded a little over it. 0.025° is about 2.8 km north–south and 2.1 km east–west here.
MARGIN = Decimal("0.025")


@dataclass(frozen=True, slots=True)
class Bounds:
    """A longitude/latitude box in degrees (GCJ-02 and WGS-84 differ by a few hundred metres: both hold in either)."""

    lng_min: Decimal
    lng_max: Decimal
    lat_min: Decimal
    lat_max: Decimal

    def contains(self, lng: Any, lat: Any, margin: Decimal = Decimal(0)) -> bool:
        """Whether (lng, lat) lies inside the box widened by `margin` degrees on every side."""
        x, y = Decimal(str(lng)), Decimal(str(lat))
        return (
            self.lng_min - margin <= x <= self.lng_max + margin and self.lat_min - margin <= y <= self.lat_max + margin
        )


@dataclass(frozen=True, slots=True)
class District:
    """One district: its AreaCode, Chinese name, bounding box and the centre of its built-up core (GCJ-02)."""

    code: str
    name: str
    bounds: Bounds
    centre_lng: Decimal
    centre_lat: Decimal

    def contains(self, lng: Any, lat: Any, margin: Decimal = MARGIN) -> bool:
        """Whether (lng, lat) lies inside the district's box widened by `margin` degrees on every side."""
        return self.bounds.contains(lng, lat, margin)


# Extents of each district's administrative area, read off a map in WGS-84 and moved into GCJ-02 (in Beijing GCJ-02
# lies about 0.006° east and 0.0013° north of WGS-84). A box over-covers an irregular district, so the district rule
# catches coordinates in the wrong part of the city (a Chaoyang AreaCode on a Yanqing site), not a point a street too
# far. Centres are the built-up core (where the simulator clusters its stations). Codes and names: the
# public-information appendix.
# fmt: off
_TABLE = (
    # code,    name,       lng_min,   lng_max,   lat_min,  lat_max,  centre lng, centre lat
    ("110101", "东城区",   "116.370", "116.460", "39.850", "39.980", "116.4163", "39.9288"),
    ("110102", "西城区",   "116.300", "116.410", "39.855", "39.980", "116.3660", "39.9123"),
    ("110105", "朝阳区",   "116.345", "116.650", "39.810", "40.105", "116.4864", "39.9215"),
    ("110106", "丰台区",   "116.060", "116.500", "39.765", "39.915", "116.2870", "39.8585"),
    ("110107", "石景山区", "116.115", "116.270", "39.870", "39.995", "116.2230", "39.9056"),
    ("110108", "海淀区",   "116.045", "116.405", "39.880", "40.165", "116.2981", "39.9593"),
    ("110109", "门头沟区", "115.420", "116.240", "39.810", "40.170", "116.1020", "39.9400"),
    ("110111", "房山区",   "115.420", "116.265", "39.415", "39.925", "116.1430", "39.7350"),
    ("110112", "通州区",   "116.530", "116.955", "39.600", "40.030", "116.6570", "39.9090"),
    ("110113", "顺义区",   "116.440", "117.000", "40.000", "40.305", "116.6540", "40.1300"),
    ("110114", "昌平区",   "115.820", "116.505", "40.025", "40.395", "116.2312", "40.2208"),
    ("110115", "大兴区",   "116.195", "116.735", "39.440", "39.850", "116.3380", "39.7269"),
    ("110116", "怀柔区",   "116.280", "116.810", "40.240", "41.060", "116.6310", "40.3160"),
    ("110117", "平谷区",   "116.900", "117.510", "39.995", "40.385", "117.1210", "40.1406"),
    ("110118", "密云区",   "116.675", "117.515", "40.220", "40.855", "116.8430", "40.3770"),
    ("110119", "延庆区",   "115.420", "116.580", "40.265", "40.830", "115.9750", "40.4565"),
)
# fmt: on

DISTRICTS: dict[str, District] = {
    code: District(code, name, Bounds(Decimal(w), Decimal(e), Decimal(s), Decimal(n)), Decimal(cx), Decimal(cy))
    for code, name, w, e, s, n, cx, cy in _TABLE
}

# The city is the union of its districts, so a coordinate inside any district's box is inside the city.
CITY = Bounds(
    min(d.bounds.lng_min for d in DISTRICTS.values()),
    max(d.bounds.lng_max for d in DISTRICTS.values()),
    min(d.bounds.lat_min for d in DISTRICTS.values()),
    max(d.bounds.lat_max for d in DISTRICTS.values()),
)
# Mainland China's extent: a point outside it is a swapped or mistyped coordinate, not merely a wrong district.
CHINA = Bounds(Decimal("73.4"), Decimal("135.1"), Decimal("18.1"), Decimal("53.6"))
