"""The indicators' export (CSV / Excel from the admin): Chinese column headers, the code's name beside it."""

from import_export import fields

from apps.core.resources import SpecResource

from .codes import CODES
from .models import AnnualAssessment, Indicator, Scorecard


class IndicatorResource(SpecResource):
    operator = fields.Field(attribute="operator_id", column_name="运营商ID")
    name = fields.Field(column_name="指标名称", dehydrate_method=lambda row: CODES[row.code].name)
    unit = fields.Field(column_name="单位", dehydrate_method=lambda row: CODES[row.code].unit)

    class Meta(SpecResource.Meta):
        model = Indicator
        fields = ["code", "name", "level", "target", "period", "start", "value", "unit", "numerator", "denominator",
                  "operator", "area_code", "details"]  # fmt: skip
        export_order = fields


class ScorecardResource(SpecResource):
    """The quarter's scorecard as a city publishes it."""

    operator = fields.Field(attribute="operator_id", column_name="运营商ID")
    station = fields.Field(attribute="station__station_id", column_name="充电站ID")
    station_name = fields.Field(attribute="station__station_name", column_name="充电站名称")

    class Meta(SpecResource.Meta):
        model = Scorecard
        fields = ["quarter", "operator", "station", "station_name", "eligible", "reasons", "values", "scores",
                  "total", "rank", "grade", "energy_kwh", "cap_kwh", "reward_yuan", "frozen"]  # fmt: skip
        export_order = fields


class AnnualAssessmentResource(SpecResource):
    """The year's annual assessment as a city publishes it."""

    operator = fields.Field(attribute="operator_id", column_name="运营商ID")
    station = fields.Field(attribute="station__station_id", column_name="充电站ID")
    station_name = fields.Field(attribute="station__station_name", column_name="充电站名称")

    class Meta(SpecResource.Meta):
        model = AnnualAssessment
        fields = ["year", "operator", "station", "station_name", "eligible", "reasons", "values", "scores", "total",
                  "rank", "grade", "rated_kw", "reward_yuan", "frozen"]  # fmt: skip
        export_order = fields
