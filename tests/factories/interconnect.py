"""The transport: key sets, tokens, replay marks, the journal, and the record of pulls."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import factory
from django.utils import timezone

from apps.core.secretbox import seal
from apps.interconnect.choices import Direction, KeyDirection
from apps.interconnect.keys import keys_generate
from apps.interconnect.models import (
    AccessToken,
    Exchange,
    OperatorKeySet,
    PeerToken,
    PullState,
    RejectedRecord,
    SeenEnvelope,
    SyncRun,
)

from .operators import OperatorFactory

STATIONS_INFO = "query_stations_info"


class OperatorKeySetFactory(factory.django.DjangoModelFactory):
    """The operator's current inbound set, freshly generated and sealed (`keys` holds it in wire names)."""

    class Meta:
        model = OperatorKeySet
        exclude = ("keys",)

    keys = factory.LazyFunction(keys_generate)
    operator = factory.SubFactory(OperatorFactory)
    direction = KeyDirection.INBOUND
    label = factory.Sequence(lambda n: f"{n:08x}")
    operator_secret = factory.LazyAttribute(lambda o: seal(o.keys["OperatorSecret"]))
    data_secret = factory.LazyAttribute(lambda o: seal(o.keys["DataSecret"]))
    data_secret_iv = factory.LazyAttribute(lambda o: seal(o.keys["DataSecretIV"]))
    sig_secret = factory.LazyAttribute(lambda o: seal(o.keys["SigSecret"]))


class AccessTokenFactory(factory.django.DjangoModelFactory):
    """A token the portal issued, valid for two hours (only its digest is stored)."""

    class Meta:
        model = AccessToken

    operator = factory.SubFactory(OperatorFactory)
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"token-{n}".encode()).hexdigest())
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))


class PeerTokenFactory(factory.django.DjangoModelFactory):
    """A token an operator issued to the portal, sealed, valid for two hours."""

    class Meta:
        model = PeerToken

    key = factory.Sequence(lambda n: f"peer-token-{n}")
    token = factory.LazyFunction(lambda: seal("peer-token"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))


class SeenEnvelopeFactory(factory.django.DjangoModelFactory):
    """An accepted envelope's replay mark."""

    class Meta:
        model = SeenEnvelope

    operator_id = "MA0000000"
    timestamp = "20240101120000"
    seq = factory.Sequence(lambda n: f"{n % 10000:04d}")
    sig = factory.Sequence(lambda n: f"{n:032X}")


class ExchangeFactory(factory.django.DjangoModelFactory):
    """A journal row: an accepted inbound call from the operator."""

    class Meta:
        model = Exchange

    operator = factory.SubFactory(OperatorFactory)
    claimed_operator_id = factory.LazyAttribute(lambda o: o.operator.operator_id if o.operator else "")
    interface = "notification_stationStatus"
    direction = Direction.IN
    timestamp = "20240101120000"
    seq = "0001"
    ret = 0
    http_status = 200


class SyncRunFactory(factory.django.DjangoModelFactory):
    """A crawl of the operator's stations, still running."""

    class Meta:
        model = SyncRun

    operator = factory.SubFactory(OperatorFactory)
    interface = STATIONS_INFO


class PullStateFactory(factory.django.DjangoModelFactory):
    """The scheduler's memory of the operator's station crawl, never dispatched."""

    class Meta:
        model = PullState

    operator = factory.SubFactory(OperatorFactory)
    interface = STATIONS_INFO


class RejectedRecordFactory(factory.django.DjangoModelFactory):
    """A station a crawl of the operator refused."""

    class Meta:
        model = RejectedRecord

    operator = factory.SubFactory(OperatorFactory)
    run = factory.SubFactory(SyncRunFactory, operator=factory.SelfAttribute("..operator"))
    interface = factory.SelfAttribute("run.interface")
    record_key = factory.Sequence(lambda n: f"BAD{n}")
    rules = factory.LazyFunction(lambda: ["R1"])
    reasons = factory.LazyFunction(lambda: ["x"])
