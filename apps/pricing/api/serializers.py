"""Business policies in their wire names (§3.2 PolicyInfos) with the version's effective time."""

from rest_framework import serializers

from apps.core.api import WireModelSerializer
from apps.pricing.models import BusinessPolicy, PolicyPeriod


class PolicyInfoSerializer(WireModelSerializer):
    class Meta:
        model = PolicyPeriod
        fields = ["start_time", "elec_price", "sevice_price"]


class BusinessPolicySerializer(WireModelSerializer):
    """One version of a connector's policy: in force from `EffectiveFrom` until the next version."""

    operator_id = serializers.CharField(read_only=True)
    connector_id = serializers.CharField(source="connector.connector_id", read_only=True)
    policy_infos = PolicyInfoSerializer(source="periods", many=True, read_only=True)

    class Meta:
        model = BusinessPolicy
        fields = ["id", "operator_id", "connector_id", "effective_from", "source", "equip_biz_seq", "policy_infos"]
