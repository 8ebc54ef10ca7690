"""Vocabularies of settlement: why an order is in dispute, where a dispute stands, how it was settled."""

from django.db import models

from apps.orders.choices import DisputeReason

# E4 leaves 4–99 to the parties: the portal's own code for an order it holds that the operator's list left out.
NOT_LISTED = 4


class DisputeReasonChoices(models.IntegerChoices):
    """E4 争议原因 with the portal's custom code."""

    NOT_FOUND = DisputeReason.NOT_FOUND.value, "交易不存在（平台无此订单）"
    WRONG_MONEY = DisputeReason.WRONG_MONEY.value, "交易金额错误"
    WRONG_ENERGY = DisputeReason.WRONG_ENERGY.value, "交易电量错误"
    NOT_LISTED = NOT_LISTED, "运营商对账单未列出（平台有此订单）"


class DisputeState(models.TextChoices):
    OPEN = "open", "待处理"
    RESOLVED = "resolved", "已处理"


class Resolution(models.TextChoices):
    OPERATOR = "operator", "采用运营商数据"
    PORTAL = "portal", "采用平台数据"
    WRITE_OFF = "write_off", "核销（不予结算）"


class SettlementPeriod(models.TextChoices):
    MONTH = "month", "按月"
    WEEK = "week", "按周"


class StatementState(models.TextChoices):
    DRAFT = "draft", "草稿"
    CONFIRMED = "confirmed", "已确认"
    PAID = "paid", "已付款"


# draft → confirmed → paid; nothing goes back (a wrong confirmed statement is corrected by the next one).
STATEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    StatementState.DRAFT: frozenset({StatementState.CONFIRMED}),
    StatementState.CONFIRMED: frozenset({StatementState.PAID}),
    StatementState.PAID: frozenset(),
}
