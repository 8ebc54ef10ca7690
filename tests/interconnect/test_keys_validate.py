"""A key set typed by a person: the key at fault is named from the codec's error type, not from its English text."""

from __future__ import annotations

import pytest

from apps.core.exceptions import ValidationFailed
from apps.interconnect.keys import keys_validate

GOOD = {"OperatorSecret": "o" * 16, "DataSecret": "d" * 16, "DataSecretIV": "i" * 16, "SigSecret": "s" * 16}


@pytest.mark.parametrize("name", ["DataSecret", "DataSecretIV"])
def test_a_key_of_the_wrong_length_is_named(name):
    with pytest.raises(ValidationFailed) as refused:
        keys_validate(GOOD | {name: "x" * 15})
    assert refused.value.field == name and refused.value.message == f"{name}: 必须正好16字节（UTF-8）"


def test_a_good_set_passes():
    assert keys_validate(GOOD).data_secret == "d" * 16
