"""Import/export of operators (OperatorInfo plus the portal's kind and lifecycle), keyed by OperatorID."""

from import_export import fields

from apps.core.resources import SpecResource

from .models import Operator


class OperatorResource(SpecResource):
    # Exported, never imported: going live passes the conformance gate on the operator's page, not a spreadsheet.
    status = fields.Field(attribute="status", column_name="接入状态", readonly=True)

    class Meta(SpecResource.Meta):
        model = Operator
        import_id_fields = ["operator_id"]
        fields = [
            "operator_id",
            "operator_name",
            "operator_tel1",
            "operator_tel2",
            "operator_reg_address",
            "operator_note",
            "kind",
            "status",
            "endpoint_url",
        ]

    def instance_operator_id(self, instance):
        return instance.operator_id
