"""The protocol tests use the shared caller (tests/caller.py) and fixtures (tests/conftest.py)."""

from tests.caller import OPERATOR_ID, Answer, Caller, keyset

__all__ = ["OPERATOR_ID", "Answer", "Caller", "keyset"]
