"""A client written from the spec alone (its own sample functions, not our codec) talks to the live portal over HTTP."""

import base64
import hashlib
import hmac
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from Crypto.Cipher import AES
from Crypto.Util.Padding import pad, unpad

from apps.interconnect.services import operator_provision

pytestmark = pytest.mark.django_db(transaction=True)


# transport-and-security.md §4 and §5, as a partner's engineer would type them in.
def cec_encrypt(plain_json: str, data_secret: str, data_secret_iv: str) -> str:
    c = AES.new(data_secret.encode(), AES.MODE_CBC, data_secret_iv.encode())
    return base64.b64encode(c.encrypt(pad(plain_json.encode("utf-8"), 16))).decode("ascii")


def cec_decrypt(data_b64: str, data_secret: str, data_secret_iv: str) -> str:
    c = AES.new(data_secret.encode(), AES.MODE_CBC, data_secret_iv.encode())
    return unpad(c.decrypt(base64.b64decode(data_b64)), 16).decode("utf-8")


def cec_sig(sig_secret: str, *parts) -> str:
    msg = "".join(str(p) for p in parts)
    return hmac.new(sig_secret.encode(), msg.encode("utf-8"), hashlib.md5).hexdigest().upper()


class SpecClient:
    def __init__(self, base: str, operator_id: str, keys: dict):
        self.base, self.operator_id, self.keys, self.token, self.seq = base, operator_id, keys, None, 0

    def post(self, interface: str, data: dict, *, sig=None, authorization=None):
        self.seq += 1
        ts = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d%H%M%S")
        seq = f"{self.seq:04d}"
        payload = cec_encrypt(json.dumps(data, ensure_ascii=False), self.keys["DataSecret"], self.keys["DataSecretIV"])
        body = {
            "OperatorID": self.operator_id,
            "Data": payload,
            "TimeStamp": ts,
            "Seq": seq,
            "Sig": sig or cec_sig(self.keys["SigSecret"], self.operator_id, payload, ts, seq),
        }
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if authorization or self.token:
            headers["Authorization"] = authorization or f"Bearer {self.token}"
        response = requests.post(self.base + interface, data=json.dumps(body).encode(), headers=headers, timeout=10)
        assert response.status_code == 200
        answer = response.json()
        assert answer["Sig"] == cec_sig(self.keys["SigSecret"], answer["Ret"], answer["Msg"], answer["Data"])
        if not answer["Data"]:
            return answer["Ret"], answer["Msg"], None
        plain = cec_decrypt(answer["Data"], self.keys["DataSecret"], self.keys["DataSecretIV"])
        return answer["Ret"], answer["Msg"], json.loads(plain)


def test_token_and_every_refusal_over_real_http(live_server):
    keys = operator_provision(operator_id="MA59CU773", name="外部平台")["inbound"]
    client = SpecClient(f"{live_server.url}/evcs/v1/", "MA59CU773", keys)

    ret, _, data = client.post("query_token", {"OperatorID": "MA59CU773", "OperatorSecret": keys["OperatorSecret"]})
    assert (ret, data["SuccStat"], data["FailReason"]) == (0, 0, 0)
    assert data["TokenAvailableTime"] > 0
    client.token = data["AccessToken"]

    assert client.post("query_token", {"OperatorID": "MA59CU773", "OperatorSecret": "bad"})[2]["FailReason"] == 2
    assert client.post("query_token", {"OperatorID": "MA59CU773"}, sig="0" * 32)[0] == 4001
    assert client.post("query_token", {"OperatorID": "MA59CU773"})[0] == 4004  # OperatorSecret missing
    ret, msg, _ = client.post("no_such_interface", {})
    assert ret == 4003
    assert "no_such_interface" in msg
