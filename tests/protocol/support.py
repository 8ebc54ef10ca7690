"""Shared fixtures data for the protocol tests: the spec's test vectors and the standard's example keys."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from apps.protocol import KeySet

# The spec's own file (../shared/spec beside the checkout, as in CI) wins; a copy kept in tests/protocol/data lets a
# bare clone run the suite too, and test_vectors checks the copy has not drifted from the spec.
SHARED_VECTORS_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "test-vectors.json"
VENDORED_VECTORS_PATH = Path(__file__).resolve().parent / "data" / "test-vectors.json"
VECTORS_PATH = SHARED_VECTORS_PATH if SHARED_VECTORS_PATH.exists() else VENDORED_VECTORS_PATH

EXAMPLE_KEY = "1234567890abcdef"  # the standard's published example value for every secret
EXAMPLE_KEYS = KeySet(EXAMPLE_KEY, EXAMPLE_KEY, EXAMPLE_KEY, EXAMPLE_KEY)
OTHER_KEYS = KeySet("fedcba0987654321", "fedcba0987654321", "0987654321fedcba", "fedcba0987654321")
OPERATOR_ID = "123456789"


@cache
def load_vectors() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["vectors"])


def vectors(kind: str | None = None) -> list[dict[str, Any]]:
    return [v for v in load_vectors() if kind is None or v["kind"] == kind]


def keys_of(vector: dict[str, Any]) -> KeySet:
    k = vector["keys"]
    return KeySet(EXAMPLE_KEY, k["DataSecret"], k["DataSecretIV"], k["SigSecret"])
