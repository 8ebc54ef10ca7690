"""Import/export of tariffs: one row per period, keyed by (OperatorID, ConnectorID, 生效时间, StartTime)."""

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from apps.core.resources import BUSINESS_TIME, OperatorScopedKeyWidget, SpecResource
from apps.stations.models import Connector

from .models import BusinessPolicy, PolicyPeriod, PolicySource


class PolicyPeriodResource(SpecResource):
    """A row is one PolicyInfo of one policy version; the version is created on first sight of its key."""

    operator = fields.Field(attribute="policy__operator_id", column_name="运营商ID")
    connector = fields.Field(
        attribute="policy__connector",
        column_name="充电设备接口编码",
        widget=OperatorScopedKeyWidget(Connector, "connector_id"),
    )
    effective_from = fields.Field(
        attribute="policy__effective_from", column_name="生效时间", widget=widgets.DateTimeWidget(format=BUSINESS_TIME)
    )

    class Meta(SpecResource.Meta):
        model = PolicyPeriod
        import_id_fields = ["operator", "connector", "effective_from", "start_time"]
        fields = ["operator", "connector", "effective_from", "start_time", "elec_price", "sevice_price"]

    def _policy_key(self, row):
        connector = self.fields["connector"].clean(row)
        effective_from = self.fields["effective_from"].clean(row)
        if connector is None or effective_from is None:
            raise ValidationError("充电设备接口编码和生效时间必须填写")
        return connector, effective_from

    def get_instance(self, instance_loader, row):
        connector, effective_from = self._policy_key(row)
        return (
            PolicyPeriod.objects.filter(
                policy__connector=connector, policy__effective_from=effective_from, start_time=row.get("时段起始时间点")
            )
            .select_related("policy")
            .first()
        )

    def import_instance(self, instance, row, **kwargs):
        connector, effective_from = self._policy_key(row)
        if instance.policy_id is None:
            policy, _ = BusinessPolicy.objects.get_or_create(
                connector=connector,
                effective_from=effective_from,
                defaults={"operator_id": connector.operator_id, "source": PolicySource.IMPORT},
            )
            instance.policy = policy
        for name in ("start_time", "elec_price", "sevice_price"):
            self.import_field(self.fields[name], instance, row, **kwargs)

    def instance_operator_id(self, instance):
        return instance.policy.operator_id
