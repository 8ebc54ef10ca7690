"""Indicators as rows (one value per code, level, target, period and start) and what excludes time from them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel, choices_constraint
from apps.core.roles import ScopedManager
from apps.operators.models import Operator
from apps.stations.models import Connector, Station


class Level(models.TextChoices):
    CONNECTOR = "connector", "充电接口"
    STATION = "station", "充电站"
    OPERATOR = "operator", "运营商"
    DISTRICT = "district", "区"
    CITY = "city", "全市"


class Period(models.TextChoices):
    DAY = "day", "日"
    WEEK = "week", "周"
    MONTH = "month", "月"
    QUARTER = "quarter", "季度"


class Indicator(models.Model):
    """One figure: `value` = numerator ÷ denominator (the spec's aggregation rule needs both kept), or null when the
    denominator is zero. `target` names what it is about: a ConnectorID, a StationID, an OperatorID, an AreaCode,
    or the city's code; `operator` is set on every level below the district (the scope rule reads it)."""

    code = models.CharField("指标", max_length=24)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    target = models.CharField("对象", max_length=40)
    period = models.CharField("周期", max_length=8, choices=Period.choices)
    start = models.DateField("开始日期")
    value = models.FloatField("值", null=True, blank=True)
    numerator = models.FloatField("分子")
    denominator = models.FloatField("分母")
    details = models.JSONField("明细", default=dict, blank=True)
    # Derived rows, millions a day, rewritten whole: no database-level foreign keys (each row's deferred check at
    # commit cost more than its insert; the benchmark measured 6 s per 164,000 rows). Deleting an operator, station
    # or connector still removes its rows: Django's collector cascades. The operator's own index is the prefix of
    # indicator_operator.
    operator = models.ForeignKey(
        Operator,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name="运营商",
        db_constraint=False,
        db_index=False,
    )
    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name="充电站",
        db_constraint=False,
    )
    connector = models.ForeignKey(
        Connector,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name="充电接口",
        db_constraint=False,
    )
    area_code = models.CharField("区划代码", max_length=20, blank=True)
    computed = models.DateTimeField("计算时间", auto_now=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "监管指标"
        verbose_name_plural = "监管指标"
        ordering = ["-start", "code", "level", "target"]
        permissions = [("export_indicator", "Can export 监管指标")]
        indexes = [
            models.Index(fields=["code", "level", "period", "-start"], name="indicator_code_level"),
            models.Index(fields=["operator", "period", "-start"], name="indicator_operator"),
        ]
        constraints = [
            # Period and start first: the unique index also serves a day's replacement and the roll-ups' scans.
            models.UniqueConstraint(fields=["period", "start", "code", "level", "target"], name="indicator_unique"),
            choices_constraint("level", Level, "indicator"),
            choices_constraint("period", Period, "indicator"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.get_level_display()} {self.target} {self.start}"


class MaintenanceWindow(TimeStampedModel):
    """A maintenance an operator declares ahead (a station, or one connector of it): time in it is excluded — but
    only when it was declared before it started (`created` < `start`), as the spec says."""

    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="maintenance_windows", verbose_name="运营商"
    )
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="maintenance_windows", verbose_name="充电站"
    )
    connector = models.ForeignKey(
        Connector,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        verbose_name="充电接口",
        help_text="空表示整个充电站",
    )
    start = models.DateTimeField("开始时间")
    end = models.DateTimeField("结束时间")
    reason = models.CharField("原因", max_length=200)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name="申报人"
    )
    history = HistoricalRecords(verbose_name="维护窗口变更记录", excluded_fields=["created", "updated"])

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "计划维护"
        verbose_name_plural = "计划维护"
        ordering = ["-start"]
        indexes = [models.Index(fields=["operator", "start"], name="maintenance_operator_start")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="maintenance_end_after_start"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="maintenance_reason_given"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        _check_place(self)

    @property
    def declared_in_advance(self) -> bool:
        return self.created is not None and self.created < self.start


class Exemption(TimeStampedModel):
    """An outage a regulator exempts (grid cut, force majeure): an operator's whole network, a station or one
    connector, over a time range. Time in it is excluded whenever it was granted."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="exemptions", verbose_name="运营商")
    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exemptions",
        verbose_name="充电站",
        help_text="空表示该运营商全部充电站",
    )
    connector = models.ForeignKey(
        Connector,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exemptions",
        verbose_name="充电接口",
        help_text="空表示整个充电站",
    )
    start = models.DateTimeField("开始时间")
    end = models.DateTimeField("结束时间")
    reason = models.CharField("原因", max_length=200)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name="批准人"
    )
    history = HistoricalRecords(verbose_name="豁免变更记录", excluded_fields=["created", "updated"])

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "监管豁免"
        verbose_name_plural = "监管豁免"
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="exemption_end_after_start"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="exemption_reason_given"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        _check_place(self)


def _check_place(obj: MaintenanceWindow | Exemption) -> None:
    """The station is the operator's and the connector the station's (or the operator's): a window or an exemption
    never reaches another operator's equipment."""
    errors = {}
    station, connector = obj.station, obj.connector
    if station is not None and obj.operator_id and station.operator_id != obj.operator_id:
        errors["station"] = "充电站不属于该运营商"
    if connector is not None:
        if station is not None and connector.station_id != station.pk:
            errors["connector"] = "充电接口不属于该充电站"
        elif obj.operator_id and connector.operator_id != obj.operator_id:
            errors["connector"] = "充电接口不属于该运营商"
    if obj.start and obj.end and obj.end <= obj.start:
        errors["end"] = "结束时间应晚于开始时间"
    if errors:
        raise ValidationError(errors)


def _default_criteria() -> list[dict]:
    # What is public of Beijing's daily assessment: the average price (lower scores higher), the timeliness of
    # data-change pushes and utilisation; the weights are not public (portal: equal).
    return [
        {"code": "PRICE_AVG", "weight": 1, "direction": "lower"},
        {"code": "T_STATUS", "weight": 1, "direction": "higher"},
        {"code": "UTIL_E", "weight": 1, "direction": "higher"},
    ]


def _default_shares() -> dict:
    return {"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.25}  # rank quartiles


def _default_rates() -> dict:
    return {"A": "0.20", "B": "0", "C": "0", "D": "0"}  # 元/kWh; B and C are not public (portal: 0)


class GradingScheme(TimeStampedModel):
    """What every scheme version has (the reward scheme and the annual assessment): a name, the day it takes effect,
    and the grade rule — by rank shares or by score thresholds."""

    name = models.CharField("名称", max_length=60)
    valid_from = models.DateField("生效日期", unique=True)
    grade_by = models.CharField(
        "分级方式", max_length=10, choices=[("rank", "按排名比例"), ("threshold", "按得分阈值")], default="rank"
    )
    grade_shares = models.JSONField("各等级比例", default=_default_shares, blank=True)
    grade_thresholds = models.JSONField("各等级最低得分", default=dict, blank=True, help_text='{"A": 80, "B": 60, …}')

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name}（{self.valid_from} 起）"


class RewardScheme(GradingScheme):
    """A version of the operation-reward scheme (运营考核奖励): criteria with weights and directions, the grade rule
    (rank shares or score thresholds), the rate per grade and the cap; the version in force on a quarter's first
    day computes it. Kept with its history; a correction is a new version."""

    criteria = models.JSONField("考核指标", default=_default_criteria, help_text='[{"code", "weight", "direction"}]')
    rates = models.JSONField("各等级奖励（元/kWh）", default=_default_rates)
    cap_kwh_per_kw_year = models.PositiveIntegerField("奖励电量上限（kWh/kW/年）", default=1500)
    history = HistoricalRecords(verbose_name="奖励方案变更记录", excluded_fields=["created", "updated"])

    class Meta:
        verbose_name = "运营考核奖励方案"
        verbose_name_plural = "运营考核奖励方案"
        ordering = ["-valid_from"]


class GradedStation(models.Model):
    """What every scheme computes for a station and period: eligibility and why not, each criterion's raw value and
    score, total, rank, grade and reward; frozen once its period has ended."""

    eligible = models.BooleanField("参与考核")
    reasons = models.JSONField("不参与原因", default=list, blank=True)
    values = models.JSONField("指标值", default=dict)
    scores = models.JSONField("指标得分", default=dict)
    total = models.FloatField("总分", null=True, blank=True)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    grade = models.CharField("等级", max_length=2, blank=True)
    reward_yuan = models.DecimalField("奖励（元）", max_digits=14, decimal_places=2, default=0)
    frozen = models.BooleanField("已冻结", default=False)
    computed = models.DateTimeField("计算时间", auto_now=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        abstract = True


class Scorecard(GradedStation):
    """One station's quarter under a scheme version: eligibility, each criterion's raw value and score, total, rank,
    grade, energy and reward; live during the quarter, frozen once it has ended."""

    scheme = models.ForeignKey(RewardScheme, on_delete=models.PROTECT, related_name="scorecards", verbose_name="方案")
    quarter = models.DateField("季度开始日期")
    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="scorecards", verbose_name="运营商")
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="scorecards", verbose_name="充电站")
    energy_kwh = models.FloatField("季度电量（kWh）", default=0)
    cap_kwh = models.FloatField("奖励电量上限（kWh）", default=0)

    class Meta:
        verbose_name = "运营考核评分"
        verbose_name_plural = "运营考核评分"
        ordering = ["-quarter", "rank", "station_id"]
        permissions = [("export_scorecard", "Can export 运营考核评分")]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "quarter", "station"], name="scorecard_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.quarter} {self.grade}"


def _default_annual_criteria() -> list[dict]:
    # What the portal can see of the annual assessment's interoperability and maintenance parts (spec §6): the
    # operator's conformance, the share of status changes its platform pushed, and availability; safety is not
    # visible to the portal. Weights are not public (portal: equal).
    return [
        {"code": "CONFORMANCE", "weight": 1, "direction": "higher"},
        {"code": "PUSH_COVERAGE", "weight": 1, "direction": "higher"},
        {"code": "AVAIL", "weight": 1, "direction": "higher"},
    ]


def _default_annual_rates() -> dict:
    return {"A": "106", "B": "0", "C": "0", "D": "0"}  # 元 per kW per year; B and C are not public (portal: 0)


class AnnualScheme(GradingScheme):
    """A version of the annual assessment (年度考核), the second scheme: criteria with weights and directions, the
    grade rule (rank shares or score thresholds), the rate per grade in yuan per kW of rated power and the cap per
    station; the version in force on the year's first day computes it. Kept with its history."""

    criteria = models.JSONField(
        "考核指标", default=_default_annual_criteria, help_text='[{"code", "weight", "direction"}]'
    )
    rates = models.JSONField("各等级奖励（元/kW/年）", default=_default_annual_rates)
    cap_yuan_per_station = models.PositiveIntegerField("每站奖励上限（元/年）", default=200000)
    history = HistoricalRecords(verbose_name="年度考核方案变更记录", excluded_fields=["created", "updated"])

    class Meta:
        verbose_name = "年度考核方案"
        verbose_name_plural = "年度考核方案"
        ordering = ["-valid_from"]


class AnnualAssessment(GradedStation):
    """One station's year under an annual scheme version: eligibility, each criterion's raw value and score, total,
    rank, grade, rated power and reward; live during the year, frozen once it has ended."""

    scheme = models.ForeignKey(AnnualScheme, on_delete=models.PROTECT, related_name="assessments", verbose_name="方案")
    year = models.PositiveSmallIntegerField("年度")
    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="annual_assessments", verbose_name="运营商"
    )
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="annual_assessments", verbose_name="充电站"
    )
    rated_kw = models.FloatField("额定功率（kW）", default=0)

    class Meta:
        verbose_name = "年度考核评分"
        verbose_name_plural = "年度考核评分"
        ordering = ["-year", "rank", "station_id"]
        permissions = [("export_annualassessment", "Can export 年度考核评分")]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "year", "station"], name="annual_assessment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.year} {self.grade}"


class IndicatorExplorer(Indicator):
    """The indicator explorer page's entry in the admin's sections (a proxy: the page reads Indicator rows)."""

    class Meta:
        proxy = True
        verbose_name = "指标浏览"
        verbose_name_plural = "指标浏览"
        default_permissions = ("view",)


class ScorecardBoard(Scorecard):
    """The quarter's scorecard page's entry in the admin's sections (a proxy of Scorecard)."""

    class Meta:
        proxy = True
        verbose_name = "季度考核看板"
        verbose_name_plural = "季度考核看板"
        default_permissions = ("view",)
