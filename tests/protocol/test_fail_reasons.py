"""The coded values of business answers as enums: the wire values of the standard, and a text for each."""

from __future__ import annotations

import json

import pytest

from apps.protocol.envelope import encode_payload
from apps.protocol.names import (
    AuthFailReason,
    FailReason,
    PolicyFailReason,
    ReceiptFailReason,
    StartFailReason,
    StopFailReason,
    SuccStat,
    TokenFailReason,
)


def test_the_wire_values_are_the_standards():
    assert [int(m) for m in SuccStat] == [0, 1]
    assert {m: int(m) for m in TokenFailReason} == {
        TokenFailReason.NONE: 0, TokenFailReason.UNKNOWN_OPERATOR: 1, TokenFailReason.WRONG_SECRET: 2,
        TokenFailReason.NOT_CONNECTED: 3, TokenFailReason.TOO_OFTEN: 4,
    }  # fmt: skip
    assert (AuthFailReason.NOT_PLUGGED_IN, AuthFailReason.CHECK_FAILED) == (1, 2)
    assert (StartFailReason.NO_SUCH_DEVICE, StartFailReason.DEVICE_OFFLINE) == (1, 2)
    assert (
        StopFailReason.ALREADY_STOPPED == 3
        and PolicyFailReason.NO_POLICY == 1
        and ReceiptFailReason.RECEIVE_FAILED == 1
    )


def test_members_go_on_the_wire_as_plain_numbers():
    data = {"SuccStat": SuccStat.FAILURE, "FailReason": TokenFailReason.TOO_OFTEN}
    assert json.loads(encode_payload(data)) == {"SuccStat": 1, "FailReason": 4}


@pytest.mark.parametrize("enum", FailReason.__subclasses__())
def test_every_reason_has_its_text_and_0_is_none(enum):
    assert enum(0).label == "无"
    assert all(member.label for member in enum)


def test_a_received_reason_is_described_whatever_it_is():
    assert AuthFailReason.describe(1) == "此设备尚未插枪"
    assert StopFailReason.describe(3) == "设备已停止充电"
    assert StartFailReason.describe(42) == "自定义"
    assert TokenFailReason.describe(None) == "未知" and TokenFailReason.describe(True) == "未知"


def test_known_is_the_member_of_a_standard_failure_only():
    assert AuthFailReason.known(2) is AuthFailReason.CHECK_FAILED
    assert StopFailReason.known(3) is StopFailReason.ALREADY_STOPPED
    assert AuthFailReason.known(0) is None  # 无: not a failure
    assert (
        StartFailReason.known(42) is None and StartFailReason.known("1") is None and StartFailReason.known(True) is None
    )
