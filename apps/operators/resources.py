"""Import/export of operators (OperatorInfo plus the portal's kind and lifecycle), keyed by OperatorID."""

from apps.core.resources import SpecResource

from .models import Operator


class OperatorResource(SpecResource):
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
