"""Price supervision: query_equip_business_policy for every listed connector once a day, a slice at every interval."""

from __future__ import annotations

import datetime as dt
import math

from django.db.models import F, Q
from django.utils import timezone

from apps.core.conf import conf
from apps.core.serials import next_serial
from apps.interconnect.models import PullState, RejectedRecord, SyncRun
from apps.interconnect.pulls import Dispatch, PullJob
from apps.interconnect.registry import pull_job
from apps.operators.models import Operator
from apps.protocol import schema
from apps.protocol.names import Interface
from apps.stations.models import Connector
from apps.stations.selectors import listed_connectors

from .services import policy_check_record, policy_observe

DAY = dt.timedelta(days=1)
SLICE_MARGIN = 1.25  # a slice a quarter larger than the even share, so a day with failures still gets round


def slice_size(total: int, every_minutes: int) -> int:
    """Connectors per run so that all of them are asked within a day at one run every `every_minutes`."""
    runs_per_day = max(1, 1440 // max(1, every_minutes))
    return max(1, math.ceil(total / runs_per_day * SLICE_MARGIN))


def connectors_due(operator: Operator, *, now: dt.datetime, full: bool) -> list[Connector]:
    """Listed connectors whose policy was never asked or not within a day, longest-unasked first."""
    queryset = listed_connectors().filter(operator=operator)
    if not full:
        queryset = queryset.filter(Q(policy_check__isnull=True) | Q(policy_check__checked_at__lt=now - DAY))
    ordered = queryset.order_by(F("policy_check__checked_at").asc(nulls_first=True), "pk")
    if full:
        return list(ordered)
    size = slice_size(listed_connectors().filter(operator=operator).count(), operator.pull_policy_minutes)
    return list(ordered[:size])


@pull_job
class BusinessPolicyPull(PullJob):
    """Ask each connector's business policy (part 3 §3.2) and keep a new version only when its periods changed.

    `full` asks every listed connector now (`hlht_pull --full`); otherwise a slice of those not asked for a day.
    """

    interface = Interface.QUERY_EQUIP_BUSINESS_POLICY
    options = ("full",)
    after = Interface.QUERY_STATIONS_INFO

    @classmethod
    def due(cls, operator: Operator, state: PullState | None, now: dt.datetime) -> Dispatch | None:
        every = dt.timedelta(minutes=operator.pull_policy_minutes)
        if state is None or state.dispatched_at is None or state.dispatched_at <= now - every:
            return Dispatch(operator.pk, cls.interface, expires=every.total_seconds())
        return None

    @classmethod
    def begin(cls, operator: Operator, *, full: bool = False) -> SyncRun:
        return SyncRun.objects.create(operator=operator, interface=cls.interface, full=full)

    def run(self, *, full: bool = False) -> None:
        run = self.sync_run
        for connector in connectors_due(self.operator, now=timezone.now(), full=full):
            self._ask(connector)
            run.pages += 1
            run.save(update_fields=["pages", "created_count", "updated_count", "unchanged_count", "rejected_count"])
            self.beat()

    def _ask(self, connector: Connector) -> None:
        run = self.sync_run
        seq = next_serial(conf().protocol.operator_id)
        asked_at = timezone.now()
        data = self.client.call(self.interface, {"EquipBizSeq": seq, "ConnectorID": connector.connector_id})
        problems = schema.validate(data, schema.QUERY_EQUIP_BUSINESS_POLICY_RESPONSE)
        if not problems and (data["ConnectorID"] != connector.connector_id or data["EquipBizSeq"] != seq):
            problems = [schema.Problem("ConnectorID", schema.FORMAT, "应答的 ConnectorID 或 EquipBizSeq 与请求不符")]
        if problems:
            RejectedRecord.objects.bulk_create([self.rejected(connector.connector_id, data, problems)])
            run.rejected_count += 1
            return
        policy = None
        if data["SuccStat"] == 0:
            policy, created = policy_observe(
                connector=connector, infos=data["PolicyInfos"], observed_at=asked_at, equip_biz_seq=seq
            )
            run.created_count += created
            run.unchanged_count += not created
        else:
            run.updated_count += 1  # answered: no policy (FailReason 1) or another reason; kept on the check
        policy_check_record(
            connector=connector,
            checked_at=asked_at,
            succ_stat=data["SuccStat"],
            fail_reason=data["FailReason"],
            equip_biz_seq=seq,
            policy=policy,
        )
