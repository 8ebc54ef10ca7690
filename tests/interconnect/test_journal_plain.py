"""The journal's plain way: a payload written as its JSON text only when masking it would change nothing."""

import json
from decimal import Decimal

import pytest

from apps.interconnect.journal import JOURNAL_LIST_ITEMS, _plain_json, journal_insert, journal_record, mask
from apps.interconnect.models import Exchange
from apps.protocol.text import SECRET_MARK, STORABLE_DEPTH

STATUS = {"ConnectorStatusInfo": {"ConnectorID": "PC000123", "Status": 2, "ParkStatus": 50, "LockStatus": 0}}


def _nested(depth: int) -> dict:
    value: dict = {"x": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


# Each one needs the walk: masking (or making storable) changes it, or could.
NEEDS_THE_WALK = [
    {"OperatorSecret": "s3cr3t"},
    {"operator_secret": "x"},
    {"Sig-Secret": "x"},
    {"SE CRET": "x"},
    {"accessToken": "t"},
    {"Access_Token": "t"},
    {"nested": [{"DataSecretIV": "iv"}]},
    {"UserName": "张三"},
    {"UserName": "Zhang San"},
    {"CustomerName": "Li"},
    {"Phone": "13812345678"},
    {"Note": "call 13812345678 now"},
    {"Plate": "京A12345"},
    {"Text": "nul\u0000here"},
    {"Text": "tab\there"},
    {"Text": "del\u007fhere"},
    {"Text": "lone \ud800 surrogate"},
    {"Text": 'quote " inside'},
    {"名称": "朝阳"},
    {"Float": float("nan")},
    {(1, 2): "a key that is not text"},
    {"List": list(range(JOURNAL_LIST_ITEMS + 1))},
    {"List": [0] * (JOURNAL_LIST_ITEMS + 1)},
    _nested(STORABLE_DEPTH + 2),
]


@pytest.mark.parametrize("value", NEEDS_THE_WALK, ids=range(len(NEEDS_THE_WALK)))
def test_anything_masking_would_change_takes_the_walk(value):
    assert _plain_json(value) is None


PLAIN = [STATUS, {"Status": 0}, {"Status": 1, "FailReason": 0}, {"List": [1, 2, 3], "Flag": True, "None": None}, {},
         {"TotalMoney": Decimal("12.30"), "TotalPower": Decimal("8.500")}]  # fmt: skip


@pytest.mark.parametrize("value", PLAIN, ids=range(len(PLAIN)))
def test_a_plain_payload_is_its_masked_copy_as_text(value):
    text = _plain_json(value)
    assert text is not None and json.loads(text) == mask(value)


@pytest.mark.django_db
def test_the_row_holds_the_same_json_either_way():
    secret = {"OperatorSecret": "s3cr3t", "Phone": "13812345678", "ConnectorID": "PC1"}
    plain_pk = journal_insert(interface="notification_stationStatus", direction="in", request=STATUS,
                              response={"Status": 0})  # fmt: skip
    masked_pk = journal_insert(interface="notification_stationStatus", direction="in", request=secret)
    plain, masked = Exchange.objects.get(pk=plain_pk), Exchange.objects.get(pk=masked_pk)
    assert (plain.request, plain.response) == (STATUS, {"Status": 0})
    assert masked.request == {"OperatorSecret": SECRET_MARK, "Phone": "138****5678", "ConnectorID": "PC1"}
    # journal_record answers the row as a model instance: its payloads are the masked values, not text.
    record = journal_record(interface="notification_stationStatus", direction="in", request=STATUS)
    assert record.request == STATUS and Exchange.objects.get(pk=record.pk).request == STATUS
