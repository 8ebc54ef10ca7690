"""The catalogue of data-quality rules: every rule code a rejected record can carry, with its Chinese name.

The codes are defined where the rules are checked (apps/protocol/schema/ for the spec's structure,
apps/stations/rules.py for Beijing's station rules, apps/orders/rules.py for the order pushes' refusals); this is
where regulators read them.
"""

from __future__ import annotations

from apps.orders import rules as orders
from apps.protocol import schema
from apps.stations import rules as station

# A rejected record whose rule list is empty or unreadable (older rows, a hand-made row) still counts, under this.
UNKNOWN_RULE = "unknown"

RULE_LABELS: dict[str, str] = {
    schema.REQUIRED: "必填项缺失",
    schema.TYPE: "数据类型错误",
    schema.MIN_LEN: "长度过短",
    schema.MAX_LEN: "长度超限",
    schema.FIXED_LEN: "定长不符（如9位ID）",
    schema.ENUM: "取值不在枚举内",
    schema.SCALE: "小数位数不符",
    schema.RANGE: "数值超出范围",
    schema.FORMAT: "格式错误",
    schema.CHARACTERS: "含控制字符或非法字符",
    schema.MIN_ITEMS: "列表项过少",
    schema.MAX_ITEMS: "列表项过多",
    schema.UNIQUE: "编码重复",
    schema.COUNT: "数量与列表不符",
    schema.TIME_ORDER: "时间先后颠倒",
    schema.VOLTAGE_ORDER: "电压上下限颠倒",
    schema.CONSISTENCY: "金额或电量不一致",
    station.OPERATOR_RULE: "运营商ID与调用方不符",
    station.AREA_CODE_RULE: "非北京市区县代码",
    station.CHINA_RULE: "坐标不在中国境内",
    station.BEIJING_RULE: "坐标不在北京市",
    station.DISTRICT_RULE: "坐标与所属区县不符",
    station.POWER_RULE: "功率超出合理范围",
    station.VOLTAGE_RULE: "电压超出合理范围",
    station.DIRECTORY_RULE: "入库校验失败",
    station.PENDING_LIMIT_RULE: "未知接口的待关联状态超出上限",
    # An order push refused for the session it claims (apps/orders/rules.py).
    **{code: orders.RULE_LABELS[code] for code in orders.REFUSALS},
    UNKNOWN_RULE: "未注明规则",
}


def rule_label(code: str) -> str:
    """The Chinese name of a rule code; an unknown code is shown as itself."""
    return RULE_LABELS.get(code, code)
