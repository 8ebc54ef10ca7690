"""The interfaces the portal serves: name → handler, with who may call it and whether a token is needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.operators.choices import OperatorKind
from apps.operators.models import Operator

from .protocol import KeySet, RequestEnvelope, schema


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a handler knows about the call it answers."""

    operator: Operator
    keys: KeySet
    envelope: RequestEnvelope
    remote_addr: str | None = None


Handler = Callable[[CallContext, dict[str, Any]], dict[str, Any]]
# Raises BusinessError (4004) naming each bad field; the default checks the interface's request struct.
Validator = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    handler: Handler
    token_required: bool = True
    callers: frozenset[str] = field(default_factory=lambda: frozenset(OperatorKind.values))
    validate: Validator | None = None


REGISTRY: dict[str, Interface] = {}


def interface(
    name: str, *, token_required: bool = True, callers: set[str] | None = None, validate: Validator | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler. Handlers call one service and return the response Data; errors are raised, not built."""
    if validate is None and name in schema.INTERFACES:
        request_struct = schema.INTERFACES[name][0]

        def validate(payload: dict[str, Any]) -> None:
            schema.check(payload, request_struct)

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Interface(
            name=name,
            handler=handler,
            token_required=token_required,
            callers=frozenset(callers) if callers else frozenset(OperatorKind.values),
            validate=validate,
        )
        return handler

    return register
