"""core's background Job (issue 22 item 6, merged from h-jobs): model named by label, loaded where it exists."""

from __future__ import annotations

import factory


class JobFactory(factory.django.DjangoModelFactory):
    """A conformance check of an operator, queued and not yet picked up by a worker."""

    class Meta:
        model = "core.Job"

    name = "conformance"
    object_id = factory.Sequence(lambda n: f"MA{n:07d}")
    kwargs = factory.LazyAttribute(lambda o: {"operator_id": o.object_id})
    status = "queued"
