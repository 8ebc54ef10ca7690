"""No plaintext secret is ever stored: hostile query_token requests and an outbound exchange whose payloads carry
secrets under any spelling, at any depth, of any type, then a full `pg_dump` of the database grepped for them."""

from __future__ import annotations

import os
import subprocess

import pytest
from django.db import connection

from apps.interconnect.models import Exchange, RejectedRecord
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol.text import SECRET_MARK, is_secret_key, redact_secrets, storable
from tests.protocol.peer_server import PeerServer

from .conftest import OPERATOR_ID, keyset


@pytest.mark.parametrize(
    "key",
    ["OperatorSecret", "operatorSecret", "operatorsecret", "operator_secret", "OPERATOR-SECRET", "DataSecret",
     "DataSecretIV", "SigSecret", "sigSecret", "MySecretThing", "AccessToken", "accessToken", "access_token"],
)  # fmt: skip
def test_a_secret_key_is_known_whatever_its_spelling(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["OperatorID", "TokenAvailableTime", "SuccStat", "StationID", "Seq", None])
def test_other_keys_are_not_secret(key):
    assert not is_secret_key(key)


@pytest.mark.parametrize("value", ["abc", ["abc"], {"v": "abc"}, 12345, 1.5, True, [{"x": ["abc"]}]])
def test_a_secret_value_of_any_type_at_any_depth_is_masked_in_every_stored_copy(value):
    payload = {"Outer": [{"Inner": {"operator_secret": value}}], "OperatorID": "123456789"}
    stored = storable(payload)
    assert stored == {"Outer": [{"Inner": {"operator_secret": SECRET_MARK}}], "OperatorID": "123456789"}
    assert redact_secrets(payload) == stored
    assert payload["Outer"][0]["Inner"]["operator_secret"] == value  # the caller's own copy is left alone


# Values no stored copy may hold; each is sent somewhere a careless copy would keep it.
SECRETS = {
    "camel": "CAMELSECRETqz81",
    "listed": "LISTEDSECRETqz82",
    "nested": "NESTEDSECRETqz83",
    "number": 918273645546372819,
    "snake": "SNAKESECRETqz85",
    "deep": "DEEPSIGSECRETqz86",
    "iv": "DATAIVSECRETqz87",
    "wrong": "WRONGSECRETqz88",
    "outbound": "OUTBOUNDSECRETqz89",
    "answer": "ANSWERSECRETqz90",
}


def _hostile_token_requests(caller) -> None:
    s = SECRETS
    payloads = [
        {"OperatorID": OPERATOR_ID, "operatorSecret": s["camel"]},  # the lower-camel dialect's spelling
        {"OperatorID": OPERATOR_ID, "OperatorSecret": [s["listed"]]},
        {"OperatorID": OPERATOR_ID, "OperatorSecret": {"value": s["nested"]}},
        {"OperatorID": OPERATOR_ID, "OperatorSecret": s["number"]},
        {"OperatorID": OPERATOR_ID, "operator_secret": s["snake"], "OperatorSecret": 7},
        {"OperatorID": OPERATOR_ID, "OperatorSecret": "x", "Extra": [{"Keys": {"SigSecret": s["deep"]}}]},
        {"OperatorID": OPERATOR_ID, "OperatorSecret": "x", "DataSecretIV": s["iv"]},
        {"OperatorID": OPERATOR_ID, "OperatorSecret": s["wrong"]},  # well formed, wrong: answered SuccStat 1
    ]
    for payload in payloads:
        assert caller.call("query_token", payload).ret in (0, 4004)


def _outbound_exchange() -> None:
    from apps.interconnect.client import operator_client

    keys = operator_provision(operator_id="MA59CU773", name="对端运营商")["outbound"]
    with PeerServer(keyset(keys), operator_id="MA01HLHT0") as server:
        Operator.objects.filter(pk="MA59CU773").update(endpoint_url=server.base_url)
        with operator_client(Operator.objects.get(pk="MA59CU773")) as client:
            # The peer echoes the payload: the request and the answer both carry the secret, under other spellings.
            client.call("echo", {"Keys": [{"sigSecret": SECRETS["outbound"]}], "data_secret": SECRETS["answer"]})


def _dump() -> str:
    """Every row of the database as text: `pg_dump` on PostgreSQL (what the audit grepped), iterdump on SQLite."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "\n".join(connection.connection.iterdump())
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = ["pg_dump", "--data-only", "-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432),
               "-U", db.get("USER") or "postgres", db["NAME"]]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, check=True, text=True).stdout


@pytest.mark.django_db(transaction=True)
def test_no_secret_reaches_the_database_pg_dump(caller):
    caller.login()
    _hostile_token_requests(caller)
    _outbound_exchange()
    # The requests did reach the database: refusals left rejected records and every exchange a journal row.
    assert RejectedRecord.objects.filter(interface="query_token").count() >= 5
    assert Exchange.objects.filter(interface="query_token").count() >= 9
    assert Exchange.objects.filter(interface="echo", direction="out").exists()
    dump = _dump()
    leaked = [name for name, value in SECRETS.items() if str(value) in dump]
    assert leaked == [], f"secrets in the database dump: {leaked}"
    assert caller.keys.operator_secret not in dump and caller.token not in dump
    assert SECRET_MARK in dump
