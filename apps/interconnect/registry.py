"""The interfaces the portal serves: each app's `interfaces.py` registers its handlers here, and its pull jobs.

`InterconnectConfig.ready()` imports every installed app's `interfaces` and `pulls` modules (as the admin imports
`admin.py`), so a handler lives with the domain it writes and interconnect never imports a domain app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apps.operators.models import Operator
from apps.protocol import KeySet, RequestEnvelope, schema
from apps.protocol.receive import Context, Route

if TYPE_CHECKING:
    from .pulls import PullJob


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a portal handler knows about the call it answers."""

    operator: Operator
    keys: KeySet
    envelope: RequestEnvelope
    remote_addr: str | None = None


Handler = Callable[[CallContext, dict[str, Any]], dict[str, Any]]
# Raises BusinessError (4004) naming each bad field; the default checks the interface's request struct.
Validator = Callable[[dict[str, Any]], None]

REGISTRY: dict[str, Route] = {}
PULL_JOBS: dict[str, type[PullJob]] = {}
# Interfaces whose bodies may be larger than HLHT_MAX_BODY_BYTES, and their bound (read per request: tests change it).
BODY_LIMITS: dict[str, Callable[[], int]] = {}


def _adapt(handler: Handler) -> Callable[[Context, dict[str, Any]], dict[str, Any]]:
    def call(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        return handler(CallContext(ctx.caller.party, ctx.keys, ctx.envelope, ctx.remote_addr), payload)

    return call


def _schema_validator(name: str) -> Validator | None:
    if name not in schema.INTERFACES:
        return None
    request_struct = schema.INTERFACES[name][0]

    def validate(payload: dict[str, Any]) -> None:
        schema.check(payload, request_struct)

    return validate


def interface(
    name: str,
    *,
    token_required: bool = True,
    callers: Iterable[str] | None = None,
    validate: Validator | None = None,
    max_body: Callable[[], int] | None = None,
) -> Callable[[Handler], Handler]:
    """Register a handler for `name`. Handlers call one service and return the response Data; errors are raised.

    `callers` limits it to some operator kinds (default: every kind); `validate` replaces the spec's request check;
    `max_body` returns the bound of its bodies when they may exceed HLHT_MAX_BODY_BYTES (reconciliation).
    """

    def register(handler: Handler) -> Handler:
        existing = REGISTRY.get(name)
        if existing is not None and getattr(existing.handler, "__wrapped__", None) is not handler:
            raise ValueError(f"interface {name} is registered twice")
        adapted = _adapt(handler)
        adapted.__wrapped__ = handler  # type: ignore[attr-defined]
        REGISTRY[name] = Route(
            name=name,
            handler=adapted,
            token_required=token_required,
            validate=validate if validate is not None else _schema_validator(name),
            callers=frozenset(callers) if callers else None,
        )
        if max_body is not None:
            BODY_LIMITS[name] = max_body
        return handler

    return register


def pull_job(job: type[PullJob]) -> type[PullJob]:
    """Register a pull job class under its interface (a class decorator in an app's `pulls.py`)."""
    existing = PULL_JOBS.get(job.interface)
    if existing is not None and existing.__qualname__ != job.__qualname__:
        raise ValueError(f"pull job {job.interface} is registered twice")
    PULL_JOBS[job.interface] = job
    return job
