"""Roaming sessions the portal starts for drivers, their events, the commands it sends and each attempt."""

from __future__ import annotations

import factory
from django.conf import settings

from apps.charging.choices import CommandKind, EventSource
from apps.charging.models import ChargingSession, CommandAttempt, OutboundCommand, SessionEvent
from apps.orders.choices import StartChargeSeqStat

from .base import MOMENT
from .drivers import DriverFactory
from .stations import ConnectorFactory


class ChargingSessionFactory(factory.django.DjangoModelFactory):
    """A session being started (启动中) on a connector of its own (StartChargeSeq: the portal's ID + 18)."""

    class Meta:
        model = ChargingSession

    driver = factory.SubFactory(DriverFactory)
    connector = factory.SubFactory(ConnectorFactory)
    operator = factory.SelfAttribute("connector.operator")
    start_charge_seq = factory.Sequence(lambda n: f"{settings.HLHT_OPERATOR_ID}{n:018d}")
    state = StartChargeSeqStat.STARTING
    requested_at = MOMENT


class SessionEventFactory(factory.django.DjangoModelFactory):
    """The driver's request that opened the session."""

    class Meta:
        model = SessionEvent

    session = factory.SubFactory(ChargingSessionFactory)
    from_state = None
    to_state = StartChargeSeqStat.STARTING
    source = EventSource.DRIVER


class OutboundCommandFactory(factory.django.DjangoModelFactory):
    """The session's start command, waiting to be sent."""

    class Meta:
        model = OutboundCommand

    session = factory.SubFactory(ChargingSessionFactory)
    kind = CommandKind.START


class CommandAttemptFactory(factory.django.DjangoModelFactory):
    """One successful sending of the command (link `exchange=` to its journal row)."""

    class Meta:
        model = CommandAttempt

    command = factory.SubFactory(OutboundCommandFactory)
    ok = True
