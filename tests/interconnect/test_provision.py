"""`manage.py operator_provision`: the exact interface operations staff and scripts rely on."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.interconnect.models import OperatorKeySet
from apps.operators.models import Operator

pytestmark = pytest.mark.django_db
WIRE = {"OperatorSecret", "DataSecret", "DataSecretIV", "SigSecret"}


def provision(*args: str) -> dict:
    out = StringIO()
    call_command("operator_provision", *args, stdout=out)
    return json.loads(out.getvalue())


def test_creates_operator_and_prints_both_key_sets():
    result = provision("--operator-id", "123456789", "--name", "名称", "--endpoint", "http://127.0.0.1:9001/evcs/v1/")
    assert set(result) == {"OperatorID", "inbound", "outbound"}
    assert result["OperatorID"] == "123456789"
    for direction in ("inbound", "outbound"):
        assert set(result[direction]) == WIRE
        assert len(result[direction]["DataSecret"]) == 16
        assert len(result[direction]["DataSecretIV"]) == 16
    assert result["inbound"] != result["outbound"]
    op = Operator.objects.get(pk="123456789")
    assert (op.operator_name, op.status, op.kind, op.endpoint_url) == (
        "名称",
        "active",
        "operator",
        "http://127.0.0.1:9001/evcs/v1/",
    )


def test_rerun_updates_and_keeps_keys():
    first = provision("--operator-id", "123456789", "--name", "名称")
    second = provision("--operator-id", "123456789", "--name", "新名称", "--kind", "consumer", "--status", "testing")
    assert second == first
    op = Operator.objects.get(pk="123456789")
    assert (op.operator_name, op.kind, op.status) == ("新名称", "consumer", "testing")
    assert OperatorKeySet.objects.count() == 2


def test_keys_file_sets_keys_explicitly(tmp_path):
    provision("--operator-id", "123456789", "--name", "名称")
    example = "1234567890abcdef"  # the standard's example value for every secret
    given = {
        "OperatorID": "123456789",
        "inbound": {"OperatorSecret": example, "DataSecret": example, "DataSecretIV": example, "SigSecret": example},
    }
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(given))
    result = provision("--operator-id", "123456789", "--name", "名称", "--keys", str(path))
    assert result["inbound"] == given["inbound"]
    # The moved connection's keys replace the old set at once; the outbound set is untouched.
    assert OperatorKeySet.objects.filter(direction="inbound", retires_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operator-id", "12345678", "--name", "x"], "9"),
        (["--operator-id", "abcdefghi", "--name", "x"], "9"),
        (["--operator-id", "123456789", "--name", "x" * 65], "65"),
    ],
)
def test_bad_input_says_what_is_wrong(args, message):
    with pytest.raises(CommandError, match=message):
        provision(*args)


def test_bad_keys_file(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {
                "inbound": {
                    "OperatorSecret": "a",
                    "DataSecret": "short",
                    "DataSecretIV": "1234567890abcdef",
                    "SigSecret": "s",
                }
            }
        )
    )
    with pytest.raises(CommandError, match="DataSecret"):
        provision("--operator-id", "123456789", "--name", "x", "--keys", str(path))
    path.write_text(json.dumps({"OperatorID": "999999999", "inbound": {}}))
    with pytest.raises(CommandError, match="999999999"):
        provision("--operator-id", "123456789", "--name", "x", "--keys", str(path))
    assert not Operator.objects.exists()
