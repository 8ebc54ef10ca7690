"""A caller that speaks T/CEC 102 to the portal's server, as an operator platform does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from apps.protocol import (
    KeySet,
    ResponseEnvelope,
    SeqGenerator,
    build_request,
    open_response,
    parse_response,
)

OPERATOR_ID = "123456789"


def keyset(values: dict[str, str]) -> KeySet:
    return KeySet(values["OperatorSecret"], values["DataSecret"], values["DataSecretIV"], values["SigSecret"])


@dataclass
class Answer:
    envelope: ResponseEnvelope
    data: dict[str, Any] | None
    raw: dict[str, Any]
    status: int

    @property
    def ret(self) -> int:
        return self.envelope.ret


@dataclass
class Caller:
    """Calls the portal the way an operator platform does (with the inbound keys the portal issued)."""

    client: Any
    operator_id: str
    keys: KeySet
    prefix: str = "/evcs/v1/"
    token: str | None = None
    seq: SeqGenerator = field(default_factory=SeqGenerator)

    def envelope(self, payload: dict | str, *, keys: KeySet | None = None, **overrides: str) -> dict[str, str]:
        env = build_request(self.operator_id, payload, keys or self.keys, seq_generator=self.seq).to_dict()
        env.update(overrides)
        return env

    def post_raw(self, interface: str, body: bytes | str, *, authorization: str | None = None, path: str | None = None):
        headers = {}
        if authorization is not None:
            headers["HTTP_AUTHORIZATION"] = authorization
        return self.client.post(
            (path or self.prefix) + interface, data=body, content_type="application/json;charset=utf-8", **headers
        )

    def call(
        self,
        interface: str,
        payload: dict | str | None = None,
        *,
        envelope: dict | None = None,
        authorization: str | None = "default",
        keys: KeySet | None = None,
        path: str | None = None,
    ) -> Answer:
        env = envelope if envelope is not None else self.envelope(payload if payload is not None else {}, keys=keys)
        if authorization == "default":
            authorization = f"Bearer {self.token}" if self.token and interface != "query_token" else None
        response = self.post_raw(interface, json.dumps(env, ensure_ascii=False), authorization=authorization, path=path)
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        raw = json.loads(response.content)
        parsed = parse_response(response.content)
        data = None
        if parsed.sig:
            data = open_response(parsed, self.keys)  # answers are signed with the keys the portal issued
        return Answer(envelope=parsed, data=data, raw=raw, status=response.status_code)

    def login(self) -> str:
        answer = self.call("query_token", {"OperatorID": self.operator_id, "OperatorSecret": self.keys.operator_secret})
        assert answer.ret == 0, answer.raw
        assert answer.data["SuccStat"] == 0, answer.data
        self.token = answer.data["AccessToken"]
        return self.token
