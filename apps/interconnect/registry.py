"""The interfaces the portal serves: name → handler, with who may call it and whether a token is needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.operators.choices import OperatorKind
from apps.operators.models import Operator

from .protocol import KeySet, RequestEnvelope


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a handler knows about the call it answers."""

    operator: Operator
    keys: KeySet
    envelope: RequestEnvelope
    remote_addr: str | None = None


Handler = Callable[[CallContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    handler: Handler
    token_required: bool = True
    callers: frozenset[str] = field(default_factory=lambda: frozenset(OperatorKind.values))


REGISTRY: dict[str, Interface] = {}


def interface(
    name: str, *, token_required: bool = True, callers: set[str] | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler. Handlers call one service and return the response Data; errors are raised, not built."""

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Interface(
            name=name,
            handler=handler,
            token_required=token_required,
            callers=frozenset(callers) if callers else frozenset(OperatorKind.values),
        )
        return handler

    return register
