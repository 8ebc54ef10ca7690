"""ops' heartbeat rows."""

from __future__ import annotations

import factory
from django.utils import timezone

from apps.ops.models import Heartbeat


class HeartbeatFactory(factory.django.DjangoModelFactory):
    """A process that ticked just now (beat's row is named "beat")."""

    class Meta:
        model = Heartbeat

    name = factory.Sequence(lambda n: f"process-{n}")
    at = factory.LazyFunction(timezone.now)
