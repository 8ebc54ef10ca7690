"""Every indicator code the portal computes (spec indicators.md §2–§4): its name, unit and levels, in one place."""

from __future__ import annotations

from dataclasses import dataclass

CITY_CODE = "110000"  # Beijing's administrative code: the target of city-level rows


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    unit: str  # "%" values are 100 × numerator ÷ denominator; others numerator ÷ denominator in this unit
    definition: str

    def value(self, numerator: float, denominator: float) -> float | None:
        if not denominator:
            return None
        ratio = numerator / denominator
        return round(100 * ratio if self.unit == "%" else ratio, 6)


CODES: dict[str, Code] = {
    c.code: c
    for c in [
        Code("AVAIL", "可用率", "%", "(t_free + t_occupied) ÷ (t_period − t_excluded)"),
        Code("UPTIME", "正常运行率（NEVI）", "%", "1 − (t_out + t_unknown) ÷ (t_period − t_excluded)"),
        Code("UTIL_T", "时间利用率", "%", "t_charging ÷ (t_free + t_occupied)"),
        Code("UTIL_E", "电量利用率", "%", "订单电量 ÷ (额定功率 × (t_period − t_excluded))"),
        Code("SESS_OK", "有效充电率", "%", "时长 > 2 分钟且电量 > 0.5 kWh 的订单 ÷ 全部订单"),
        Code("FALSE_FREE", "虚报空闲率", "%", "状态为空闲而该接口有订单在充电的时间 ÷ t_free"),
        Code("FALSE_BUSY", "虚报占用率", "%", "状态为充电中而该接口无订单的时间 ÷ t_charging"),
        Code("SAT", "充电站饱和率", "%", "无空闲接口且至少一个占用的时间 ÷ 至少一个接口可用的时间"),
        Code("PU_MAX", "满负荷高峰（小时内）", "min", "一天中饱和时间最长的整点小时内的饱和分钟数"),
        Code("PU_LEN", "满负荷最长持续", "min", "一天中最长的连续饱和时长"),
        Code("T_ORDER", "订单推送及时率", "%", "订单结束后 30 秒内首次推送的订单 ÷ 推送的订单"),
        Code("T_BONUS", "奖励订单推送及时率", "%", "订单结束后 150 秒内首次推送奖励订单 ÷ 推送的奖励订单"),
        Code(
            "T_STATUS", "数据变化推送及时率", "%", "宽限期内推送的状态变化 ÷ 全部状态变化（查询发现而未推送的为漏推）"
        ),
        Code("T_START", "启动结果推送及时率", "%", "平台启动命令得到应答后 50 秒内推送启动结果 ÷ 应答的启动命令"),
        Code("T_STOP", "停止结果推送及时率", "%", "平台停止命令得到应答后 50 秒内推送停止结果 ÷ 应答的停止命令"),
        Code(
            "T_CHARGING",
            "充电状态推送及时率",
            "%",
            "充电中相邻两次充电状态推送（含开始与结束）间隔不超过 50 秒的 ÷ 全部间隔",
        ),
        Code("T_RECON", "对账及时率", "%", "次日 00:00–03:00 收到当日对账 ÷ 应对账的日数"),
        Code("PRICE_AVG", "平均充电价格", "元/kWh", "Σ订单总金额 ÷ Σ订单电量（明细含电费与服务费部分）"),
        Code("PRICE_INDEX", "充电价格指数", "元/kWh", "各区与全市按电量加权的平均价格"),
        Code("TARIFF_MISMATCH", "价格不符率", "%", "金额与在用业务策略不符的订单 ÷ 全部订单"),
        Code(
            "TARIFF_DRIFT",
            "价格公示滞后率",
            "%",
            "查询到的业务策略变化中，一天内充电站公示电费与服务费未变的 ÷ 全部变化",
        ),
        Code("DQ", "数据正确率", "%", "1 − 未通过校验的记录 ÷ 校验的记录（全部规则）"),
        Code("DQ_RULE", "规则未通过率", "%", "某规则未通过的记录 ÷ 该规则所属接口校验的记录（含样例与严重程度）"),
    ]
}

# Codes where a lower figure is the better one: rankings list them lowest first (the reward schemes' criteria carry
# their own direction, as configuration).
LOWER_IS_BETTER = frozenset({"PRICE_AVG", "PRICE_INDEX", "FALSE_FREE", "FALSE_BUSY", "TARIFF_MISMATCH", "TARIFF_DRIFT",
                             "DQ_RULE"})  # fmt: skip
