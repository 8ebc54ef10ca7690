"""Where the simulator puts stations in Beijing's 16 districts, and the words its station records use."""

from __future__ import annotations

from dataclasses import dataclass

from apps.protocol.beijing import CITY
from apps.protocol.beijing import DISTRICTS as BEIJING_DISTRICTS

# Every generated coordinate is clamped inside the city (apps/protocol/beijing.py).
LAT_MIN, LAT_MAX = float(CITY.lat_min), float(CITY.lat_max)
LNG_MIN, LNG_MAX = float(CITY.lng_min), float(CITY.lng_max)


@dataclass(frozen=True, slots=True)
class District:
    """One district as the simulator uses it: AreaCode, name and centre from the city's table, plus a spread
    (degrees, one standard deviation), a share of stations and street names."""

    code: str
    name: str
    lat: float
    lng: float
    spread: float
    weight: int
    roads: tuple[str, ...]


# Weights follow the rough share of public chargers: the big urban districts hold most of them, the mountain
# districts few. Spreads keep the widest draw (2.2 σ) inside the district's box (a quality test checks it).
_TABLE = (
    ("110101", 0.012, 3, "东直门南大街 崇文门外大街 东四十条 安定门外大街"),
    ("110102", 0.012, 4, "西直门外大街 复兴门内大街 广安门外大街 德胜门外大街"),
    ("110105", 0.045, 18, "建国路 朝阳北路 望京街 酒仙桥路 北苑路 双桥路"),
    ("110106", 0.035, 9, "丰台北路 南四环西路 马家堡东路 汽车博物馆东路"),
    ("110107", 0.015, 3, "石景山路 鲁谷路 古城大街 八大处路"),
    ("110108", 0.045, 14, "中关村大街 学院路 上地信息路 清河中街 万泉河路"),
    ("110109", 0.030, 2, "新桥大街 滨河路 石龙南路"),
    ("110111", 0.050, 5, "拱辰大街 长阳路 迎风街"),
    ("110112", 0.045, 8, "新华大街 九棵树东路 梨园南街 运河东大街"),
    ("110113", 0.045, 7, "府前街 裕华路 顺平路 天竺路"),
    ("110114", 0.050, 8, "府学路 回龙观西大街 天通苑北街 北清路"),
    ("110115", 0.050, 8, "兴华大街 荣华中路 黄村西大街 西红门路"),
    ("110116", 0.040, 2, "青春路 府前街 雁栖大街"),
    ("110117", 0.035, 2, "府前街 新平北路 平谷大街"),
    ("110118", 0.040, 2, "鼓楼大街 新中街 滨河路"),
    ("110119", 0.035, 2, "妫水北街 东外大街 高塔街"),
)
DISTRICTS: tuple[District, ...] = tuple(
    District(
        code,
        BEIJING_DISTRICTS[code].name,
        float(BEIJING_DISTRICTS[code].centre_lat),
        float(BEIJING_DISTRICTS[code].centre_lng),
        spread,
        weight,
        tuple(roads.split()),
    )
    for code, spread, weight, roads in _TABLE
)
DISTRICT_WEIGHTS: tuple[int, ...] = tuple(d.weight for d in DISTRICTS)

# Place names for station names; combined with a construction-site suffix they read like real Beijing stations.
# fmt: off
PLACES: tuple[str, ...] = (
    "阳光", "金隅", "万科", "华润", "龙湖", "远洋", "首开", "中海", "保利", "融创",
    "世纪", "国贸", "星河", "和平", "东湖", "西山", "北辰", "南湖", "长安", "新城",
)
# fmt: on

# Station-name suffix per Construction value (E3), so the name fits the kind of site.
SITE_SUFFIX: dict[int, tuple[str, ...]] = {
    1: ("小区", "家园", "花园"),
    2: ("政务中心", "医院", "图书馆"),
    3: ("园区", "研发中心"),
    4: ("大厦", "商务中心", "广场"),
    5: ("产业园", "工业园"),
    6: ("地铁站P+R停车场", "长途客运站", "公交场站"),
    7: ("体育中心", "文化中心", "会展中心"),
    8: ("公园", "绿地"),
    9: ("购物中心", "万达广场"),
    10: ("路侧停车场",),
    11: ("服务区",),
    255: ("停车场",),
}

# Fictional operator brands: the simulator must never pass itself off as a real company.
BRANDS: tuple[str, ...] = ("京畅充", "易行电", "绿源快充", "优驰充电", "蓝途能源", "安驰充", "捷能充电", "云桩科技")

# Equipment makers: fictional names with 9-character organisation codes, (ManufacturerID, ManufacturerName, models).
MAKERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("MA01SIM01", "北京华电新能源设备有限公司", ("HD-DC120", "HD-DC60", "HD-AC7")),
    ("MA01SIM02", "青岛海纳充电科技有限公司", ("HN-DCS180", "HN-DCS360", "HN-AC7K")),
    ("MA01SIM03", "深圳市瑞能电气股份有限公司", ("RN-E160", "RN-E240", "RN-A7")),
    ("MA01SIM04", "常州星途数字能源有限公司", ("XT-120K", "XT-80K", "XT-7K")),
)
