"""Operators as the API shows them: the OperatorInfo wire fields plus the portal's kind and lifecycle status."""

from apps.core.api import EnumField, WireModelSerializer
from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator


class OperatorSerializer(WireModelSerializer):
    """OperatorInfo 运营商信息, with the portal's kind (operator or third-party platform) and lifecycle status."""

    status = EnumField(OperatorStatus, read_only=True)

    class Meta:
        model = Operator
        # Endpoint URLs, pull intervals and dialect flags are connection settings, not part of the record.
        fields = [
            "operator_id",
            "operator_name",
            "operator_tel1",
            "operator_tel2",
            "operator_reg_address",
            "operator_note",
            "kind",
            "status",
            "updated",
        ]
