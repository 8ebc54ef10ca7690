"""The one lease helper: a time-limited claim on a row, taken, renewed and released by conditional UPDATEs, so no
lock is held while the work (a network call, a crawl) runs and a holder that died frees the row when time runs out.

A model opts in with a `held until` datetime field and, if the claim must survive renewals, a holder field (a random
token). Without a holder field the claim is the exact `until` it wrote (a compare-and-set on the timestamp).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils import timezone


@dataclass(frozen=True, slots=True)
class Claim:
    """What a taker holds: the time its lease runs to, and its token when the model has a holder field."""

    until: dt.datetime
    holder: str = ""


@dataclass(frozen=True, slots=True)
class Lease:
    """How a model's rows are leased: which field says until when, which (optional) names the holder."""

    until: str
    holder: str | None = None

    def free(self, now: dt.datetime) -> Q:
        """Rows nobody holds at `now`: never taken, released, or run out."""
        free = Q(**{f"{self.until}__isnull": True}) | Q(**{f"{self.until}__lte": now})
        return free | Q(**{self.holder: ""}) if self.holder else free

    def is_free(self, row: Model, now: dt.datetime) -> bool:
        """The same rule as `free()`, for a row already read (a pure decision, e.g. under its lock)."""
        until = getattr(row, self.until)
        return until is None or until <= now or (self.holder is not None and getattr(row, self.holder) == "")

    def mine(self, claim: Claim) -> Q:
        return Q(**{self.holder: claim.holder}) if self.holder else Q(**{self.until: claim.until})

    def take(self, rows: QuerySet, *, seconds: float, now: dt.datetime | None = None, **also: Any) -> Claim | None:
        """Claim `rows` (one row, in practice) for `seconds` if nobody holds them; `also` are fields written in the
        same UPDATE. None when another holder has them (or `rows` matched nothing)."""
        now = now or timezone.now()
        claim = Claim(until=now + dt.timedelta(seconds=seconds), holder=secrets.token_hex(8) if self.holder else "")
        fields = {self.until: claim.until, **({self.holder: claim.holder} if self.holder else {}), **also}
        return claim if rows.filter(self.free(now)).update(**fields) else None

    def renew(self, rows: QuerySet, claim: Claim, *, seconds: float) -> Claim | None:
        """Extend a claim still held; None once it ran out and another took the rows."""
        renewed = Claim(until=timezone.now() + dt.timedelta(seconds=seconds), holder=claim.holder)
        return renewed if rows.filter(self.mine(claim)).update(**{self.until: renewed.until}) else None

    def release(self, rows: QuerySet, claim: Claim) -> None:
        """Give the rows back (only the holder can)."""
        fields = {self.until: None, **({self.holder: ""} if self.holder else {})}
        rows.filter(self.mine(claim)).update(**fields)

    def holds(self, row: Model, claim: Claim) -> bool:
        """Whether `row` (read under its lock) is still under this claim."""
        if self.holder:
            return getattr(row, self.holder) == claim.holder
        return getattr(row, self.until) == claim.until
