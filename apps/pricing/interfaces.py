"""Part 3 §3.2 served by the portal: an operator asks the business policy of one of its connectors (for sessions
started at the pile, the CPO asks the customer's platform; in Beijing that is the city platform)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.interconnect.registry import CallContext, interface
from apps.operators.choices import OperatorKind
from apps.protocol.names import Interface
from apps.stations.models import Connector

from .selectors import version_at, versions_of

NO_POLICY = 1  # FailReason 1 此充电桩业务策略不存在


@interface(Interface.QUERY_EQUIP_BUSINESS_POLICY, callers={OperatorKind.OPERATOR})
def query_equip_business_policy(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The version of the caller's connector in force now, as the operator declared it; FailReason 1 without one."""
    answer = {"EquipBizSeq": payload["EquipBizSeq"], "ConnectorID": payload["ConnectorID"]}
    connector = Connector.objects.filter(operator=ctx.operator, connector_id=payload["ConnectorID"]).first()
    policy = None
    if connector is not None:
        policy = version_at(versions_of([connector.pk]).get(connector.pk, []), timezone.now())
    if policy is None:
        return {**answer, "SuccStat": 1, "FailReason": NO_POLICY, "SumPeriod": 0, "PolicyInfos": []}
    infos = [
        {"StartTime": p.start_time, "ElecPrice": p.elec_price, "SevicePrice": p.sevice_price}
        for p in policy.periods.all()
    ]
    return {**answer, "SuccStat": 0, "FailReason": 0, "SumPeriod": len(infos), "PolicyInfos": infos}
