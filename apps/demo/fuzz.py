"""Protocol fuzz: Data drawn by hypothesis from the spec's schema for every interface the portal serves, mutated, and
sent signed and encrypted with a provisioned platform's valid keys (so it reaches the business layer), with a share
of broken envelopes; every answer is checked (an envelope, never Ret 500, never slower than a second).

The interfaces come from the one registry (apps.interconnect.registry.REGISTRY), their Data from the catalogue
(apps.protocol.schema.INTERFACES). Hypothesis is a development requirement: only the command and the tests import
this module.
"""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from apps.demo.benchkit import bulk_directory, operators_delete
from apps.interconnect.registry import REGISTRY
from apps.interconnect.services import operator_provision
from apps.operators.choices import OperatorKind
from apps.operators.models import Operator
from apps.protocol import (
    CST,
    KeySet,
    Ret,
    SeqGenerator,
    build_request,
    open_response,
    parse_response,
    sign_request,
    verify_response,
)
from apps.protocol.names import Interface
from apps.protocol.schema import (
    INTERFACES,
    Date,
    DateTime,
    Field,
    HHmmss,
    Int,
    List,
    Num,
    Obj,
    OperatorID,
    Serial27,
    Str,
    Struct,
)
from apps.protocol.timestamps import format_timestamp
from apps.settlement.models import Dispute, ReconciliationRun
from apps.stations.models import Connector

SLOW_SECONDS = 1.0
# Answers a broken envelope may get, by how it is broken (the pipeline's order: envelope fields, caller, Sig,
# interface and kind, token, TimeStamp window, replay, decrypt, business fields).
BREAKS: dict[str, frozenset[int]] = {
    "sig": frozenset({Ret.SIGNATURE}),
    "missing": frozenset({Ret.PARAMETERS}),
    "type": frozenset({Ret.PARAMETERS}),
    "base64": frozenset({Ret.PARAMETERS, Ret.BUSINESS}),
    "stale": frozenset({Ret.PARAMETERS}),
    "replay": frozenset({Ret.PARAMETERS}),
    "token": frozenset({Ret.TOKEN}),
    "stranger": frozenset({Ret.PARAMETERS}),
    "interface": frozenset({Ret.PARAMETERS}),
    "bytes": frozenset({Ret.PARAMETERS}),
    "kind": frozenset({Ret.PARAMETERS}),
}
# Answers Data a valid envelope carried may get: taken, or refused naming a business field.
REACHED = frozenset({Ret.OK, Ret.BUSINESS})
ENVELOPE_FIELDS = ("OperatorID", "Data", "TimeStamp", "Seq", "Sig")


# -- what is sent ----------------------------------------------------------------------------------------------------


class Raw(str):
    """A JSON token written as it is (`1E+999999999`, `-0`, a nesting 5,000 deep): what json.dumps cannot emit."""

    __slots__ = ()


def encode(value: Any) -> str:
    """JSON text of a drawn value; strings ASCII-escaped (a lone surrogate survives as `\\ud800`), Raw verbatim."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if value is None or isinstance(value, bool | int):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value) if value - value == 0 else "1e999"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v) for v in value) + "]"
    raise TypeError(type(value).__name__)


@dataclass(frozen=True)
class Case:
    """One message: its interface, its Data as JSON text, and how its envelope is broken ("" for not at all)."""

    interface: str
    data: str
    broken: str = ""
    detail: str = ""  # the broken envelope's particular (which field, which bytes)

    def __repr__(self) -> str:
        data = self.data if len(self.data) <= 600 else f"{self.data[:600]}… ({len(self.data)} characters)"
        how = f", broken={self.broken!r}, detail={self.detail!r}" if self.broken else ""
        return f"Case(interface={self.interface!r}, data={data!r}{how})"


@dataclass(frozen=True)
class Platform:
    """A provisioned platform the fuzz speaks as: its OperatorID, kind and the inbound keys the portal issued."""

    operator_id: str
    kind: str
    keys: KeySet


@dataclass(frozen=True)
class Plan:
    """What to fuzz: the served interfaces (name → the kinds that may call it, None: any), the platforms, and the
    directory's identifiers, drawn now and then so Data names rows that exist."""

    interfaces: dict[str, frozenset[str] | None]
    platforms: tuple[Platform, ...]
    hints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    broken_share: float = 0.15  # of the die's throws; hypothesis's own draws bring the share of cases to ~10%

    @classmethod
    def served(cls, platforms: Sequence[Platform], hints: dict[str, tuple[str, ...]]) -> Plan:
        return cls({name: route.callers for name, route in sorted(REGISTRY.items())}, tuple(platforms), hints)

    def platform_for(self, interface: str, *, allowed: bool = True) -> Platform | None:
        kinds = self.interfaces.get(interface)
        for platform in self.platforms:
            if (kinds is None or platform.kind in kinds) == allowed:
                return platform
        return None


# -- Data from the schema --------------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12)


def _datetimes() -> st.SearchStrategy[datetime]:
    # Around the run's own day, where the portal's clock rules (time_in_future, windows) bite, and far from it.
    near = st.integers(-3 * 86400, 3600).map(
        lambda s: datetime.now(CST).replace(microsecond=0, tzinfo=None) + timedelta(seconds=s)
    )
    return st.one_of(near, st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)))


def valid(spec: Field, plan: Plan, operator_id: str) -> st.SearchStrategy[Any]:
    """Values the field's spec accepts (mostly), or names from the directory for identifiers."""
    hinted = plan.hints.get(spec.name)
    if isinstance(spec, Obj):
        return struct_data(spec.struct, plan, operator_id)
    if isinstance(spec, List):
        item = struct_data(spec.struct, plan, operator_id) if spec.struct else valid(spec.item, plan, operator_id)  # type: ignore[arg-type]
        low = spec.min_items or 0
        return st.lists(item, min_size=low, max_size=max(low, min(spec.max_items or 3, 3)))
    if isinstance(spec, OperatorID):
        return st.sampled_from([operator_id, *(hinted or ())]) | st.from_regex(r"[0-9A-Z]{9}", fullmatch=True)
    if isinstance(spec, Serial27):
        return st.from_regex(r"[0-9]{18}", fullmatch=True).map(lambda tail: operator_id + tail)
    if isinstance(spec, DateTime):
        return _datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S").rjust(19, "0"))
    if isinstance(spec, Date):
        return _datetimes().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
    if isinstance(spec, HHmmss):
        return st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)).map(
            lambda t: f"{t[0]:02d}{t[1]:02d}{t[2]:02d}"
        )
    if isinstance(spec, Str):
        size = spec.fixed_len or min(spec.max_len or 20, 20)
        text = st.from_regex(rf"[0-9A-Za-z]{{{max(spec.lo, 1)},{max(size, spec.lo, 1)}}}", fullmatch=True)
        return st.sampled_from(hinted) | text if hinted else text | _TEXT
    if isinstance(spec, Int):
        if spec.choices is not None:
            return st.sampled_from(sorted(spec.choices))
        return st.integers(spec.min if spec.min is not None else 0, spec.max if spec.max is not None else 10_000)
    if isinstance(spec, Num):
        least: Decimal = spec.min if spec.min is not None else Decimal(-10_000)
        most: Decimal = min(spec.max if spec.max is not None else Decimal(10_000), Decimal(10_000))
        return st.decimals(least, most, places=spec.scale if spec.scale is not None else 3, allow_nan=False)
    return hostile()


def struct_data(struct: Struct, plan: Plan, operator_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of the struct's fields: every required one, each optional one or not."""
    required = {f.name: valid(f, plan, operator_id) for f in struct.fields if f.required}
    optional = {f.name: valid(f, plan, operator_id) for f in struct.fields if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


# -- mutations -------------------------------------------------------------------------------------------------------

_ODD_TEXT = st.sampled_from(
    [
        "\x00",
        "\ud800",
        "\udfff",
        "\u202e",
        "\ufeff",
        "😀",
        "𠀀",
        "Ａ１",
        " ",
        "\u0301",
        "\x1b[0m",
        "'; --",
        "%s%n",
        "\\",
    ]
)
_HUGE = st.sampled_from(
    [Raw("1E+999999999"), Raw("-1e400"), Raw("1" * 41), Raw("0." + "0" * 60 + "1"), Raw("1e-30"), Raw("-0"),
     Raw("123456789012345678901234567890"), Raw("1.5E+29"), 2**31, 2**63, -(2**63) - 1, 10**38]
)  # fmt: skip


def _nest(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


@functools.cache
def hostile() -> st.SearchStrategy[Any]:
    """A value of the wrong kind for almost any field: other types, huge numbers, long strings, bad enums, unicode,
    control characters and lone surrogates, deep nesting."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-300, 300),
        _HUGE,
        st.floats(allow_nan=False, allow_infinity=False),
        st.decimals(allow_nan=False, allow_infinity=False, places=8),
        st.text(max_size=16),
        _ODD_TEXT,
        st.tuples(_ODD_TEXT, st.text(max_size=8)).map("".join),
        st.integers(200, 3000).map(lambda n: "长" * n),
        st.sampled_from([Raw('"' + "长" * 60_000 + '"'), Raw('"' + "x" * 300_000 + '"')]),
        st.lists(st.integers() | st.text(max_size=4), max_size=4),
        st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=4), max_size=3),
        st.integers(2, 20).map(_nest),
        st.sampled_from([_nest(600), _nest(5000), Raw('{"a":' * 3000 + "1" + "}" * 3000)]),
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a drawn payload a mutation may go: each dict key and list index, at every depth."""
    out: list[tuple[Any, ...]] = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated(draw: st.DrawFn, payload: Any) -> Any:
    """The payload with up to three mutations: a value replaced by a hostile one, a key dropped, an extra key."""
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(payload)
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "replace", "drop", "extra"]))
        if not path:
            if how == "replace":
                payload = draw(hostile())
            continue
        parent = _at(payload, path[:-1])
        if how == "replace":
            parent[path[-1]] = draw(hostile())
        elif how == "drop":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12) | _ODD_TEXT)] = draw(hostile())
        else:
            parent.append(draw(hostile()))
    return payload


# -- cases -----------------------------------------------------------------------------------------------------------


def data_for(interface: str, plan: Plan, operator_id: str) -> st.SearchStrategy[Any]:
    structs = INTERFACES.get(interface)
    if structs is None:  # served without a catalogue entry: arbitrary objects
        return st.dictionaries(st.text(max_size=12), hostile(), max_size=4)
    return struct_data(structs[0], plan, operator_id)


def cases(plan: Plan) -> st.SearchStrategy[Case]:
    """Cases for the plan: an interface, its Data drawn and mutated, and now and then a broken envelope."""
    names = sorted(plan.interfaces)
    # Each interface's strategy is built once: building them per draw cost more than drawing.
    datas = {}
    for name in names:
        platform = plan.platform_for(name)
        datas[name] = data_for(name, plan, (platform or plan.platforms[0]).operator_id)
    return _cases(plan, names, datas)


@st.composite
def _cases(draw: st.DrawFn, plan: Plan, names: list[str], datas: dict[str, st.SearchStrategy[Any]]) -> Case:
    # The interface and the envelope by a seeded die: hypothesis draws the first choice and the smallest numbers far
    # more often than their share (half the cases would be broken, most of them the first way, to one interface).
    die = random.Random(draw(st.integers(0, 2**32 - 1)))  # noqa: S311 - test data, not a secret
    interface = die.choice(names)
    payload = draw(mutated(draw(datas[interface])))
    data = encode(payload)
    if die.random() >= plan.broken_share:
        return Case(interface, data)
    broken = die.choice(sorted(BREAKS))
    if broken == "token" and not REGISTRY[interface].token_required:
        broken = "sig"
    if broken == "kind" and plan.platform_for(interface, allowed=False) is None:
        broken = "stranger"
    detail = ""
    if broken in ("missing", "type"):
        detail = draw(st.sampled_from(ENVELOPE_FIELDS))
    elif broken == "interface":
        unknown = st.text(st.characters(codec="utf-8"), max_size=40)
        detail = draw(unknown | st.sampled_from([interface.upper(), interface + "x", "query_token%00"]))
        # The server folds one trailing slash (a base URL ending in "/"): `name/` is the interface itself.
        interface = detail if detail.removesuffix("/") not in REGISTRY else "no_such_interface"
    elif broken == "bytes":
        detail = draw(st.binary(max_size=300)).hex()
    elif broken == "base64":
        detail = draw(st.sampled_from(["cut", "pad", "junk", "empty"]))
    return Case(interface, data, broken, detail)


# -- the platforms ---------------------------------------------------------------------------------------------------

PREFIX = "FUZZ"  # the run's platforms: FUZZO0000 (charging operator) and FUZZC0000 (consumer) per sender
CONNECTORS = 30


def platforms_provision(index: int) -> tuple[Platform, ...]:
    """One charging operator with a small directory and one consumer platform, for sender `index`."""
    made = []
    for letter, kind in (("O", OperatorKind.OPERATOR), ("C", OperatorKind.CONSUMER)):
        operator_id = f"{PREFIX}{letter}{index:04d}"
        keys = operator_provision(operator_id=operator_id, name=f"协议模糊测试{letter}{index}", kind=kind)["inbound"]
        made.append(
            Platform(
                operator_id,
                kind,
                KeySet(keys["OperatorSecret"], keys["DataSecret"], keys["DataSecretIV"], keys["SigSecret"]),
            )
        )
        if kind == OperatorKind.OPERATOR:
            bulk_directory(Operator.objects.get(pk=operator_id), CONNECTORS, prefix=f"{operator_id}F")
    return tuple(made)


def directory_hints(operator_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """The directory's identifiers, so drawn Data names connectors, equipment and stations that exist."""
    rows = Connector.objects.filter(operator_id__in=operator_ids).values_list(
        "connector_id", "equipment__equipment_id", "station__station_id"
    )
    connectors, equipment, stations = (tuple(sorted(set(column))) for column in zip(*rows, strict=True))
    return {"ConnectorID": connectors, "EquipmentID": equipment, "StationID": stations}


def clean(operator_ids: list[str]) -> None:
    """The run's platforms and what their messages left (reconciliations and their disputes, then the benchmarks'
    set: orders, policies, journal, directory)."""
    Dispute.objects.filter(operator_id__in=operator_ids).delete()
    ReconciliationRun.objects.filter(operator_id__in=operator_ids).delete()
    operators_delete(operator_ids)


# -- sending and checking --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    seconds: float


Send = Callable[[str, bytes, str | None], Reply]  # (interface, body, Authorization header) → the answer


@dataclass
class Tally:
    """What a run saw: cases, answers, Ret counts, latencies, and the violations with their cases."""

    cases: int = 0
    answers: int = 0
    rets: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    slow: list[tuple[float, str]] = field(default_factory=list)  # over SLOW_SECONDS, and again when sent again
    slow_once: list[tuple[float, str]] = field(default_factory=list)  # over it once, not when sent again
    violations: list[str] = field(default_factory=list)
    reached: int = 0  # valid envelopes whose Data reached validation or the handler

    def merge(self, other: Tally) -> None:
        self.cases += other.cases
        self.answers += other.answers
        self.rets.update(other.rets)
        self.latencies += other.latencies
        self.slow += other.slow
        self.slow_once += other.slow_once
        self.violations += other.violations
        self.reached += other.reached


class Violation(AssertionError):
    """An answer the portal must never give; hypothesis shrinks the case that drew it."""


class Fuzzer:
    """Sends cases as the plan's platforms and checks each answer; `run` drives hypothesis over them."""

    def __init__(self, plan: Plan, send: Send) -> None:
        self.plan = plan
        self.send = send
        self.seq = SeqGenerator()
        self.tokens: dict[str, str] = {}
        self.tally = Tally()

    # -- the wire

    def _post(self, interface: str, body: bytes, authorization: str | None, *, case: bool = True) -> Reply:
        reply = self.send(interface, body, authorization)
        self.tally.answers += 1
        if case:  # a login is set-up (the first request a fresh server worker answers is its slowest), not a case
            self.tally.latencies.append(reply.seconds)
        return reply

    def _envelope(self, platform: Platform, data: str) -> dict[str, Any]:
        return build_request(platform.operator_id, data, platform.keys, seq_generator=self.seq).to_dict()

    def login(self, platform: Platform) -> str:
        data = json.dumps({"OperatorID": platform.operator_id, "OperatorSecret": platform.keys.operator_secret})
        reply = self._post(Interface.QUERY_TOKEN, json.dumps(self._envelope(platform, data)).encode(), None, case=False)
        envelope = parse_response(reply.body)
        answer = open_response(envelope, platform.keys)
        if envelope.ret != Ret.OK or not answer or answer.get("SuccStat") != 0:
            raise RuntimeError(f"{platform.operator_id} could not log in: {reply.body[:300]!r}")
        token = str(answer["AccessToken"])
        self.tokens[platform.operator_id] = token
        return token

    def _bearer(self, platform: Platform | None, interface: str) -> str | None:
        route = REGISTRY.get(interface)
        if platform is None or (route is not None and not route.token_required):
            return None
        token = self.tokens.get(platform.operator_id) or self.login(platform)
        return f"Bearer {token}"

    # -- one case

    def _body(self, case: Case) -> tuple[bytes, Platform | None, str | None, bytes | None]:
        """The request body, who signs it, the Authorization header, and a second body (a replay) if any."""
        signer = self.plan.platform_for(case.interface) or self.plan.platforms[0]
        if case.broken == "kind":
            signer = self.plan.platform_for(case.interface, allowed=False) or signer
        platform: Platform | None = signer  # who can verify the answer: nobody, for a stranger
        authorization = self._bearer(signer, case.interface)
        env = self._envelope(signer, case.data)
        keys = signer.keys
        if case.broken == "sig":
            env["Sig"] = ("0" if env["Sig"][0] != "0" else "1") + env["Sig"][1:]
        elif case.broken == "missing":
            env.pop(case.detail)
        elif case.broken == "type":
            env[case.detail] = {"OperatorID": 123456789, "Data": None, "TimeStamp": 20260101000000}.get(
                case.detail, [env[case.detail]]
            )
        elif case.broken in ("base64", "stale"):
            if case.broken == "stale":
                env["TimeStamp"] = format_timestamp(datetime.now(CST) - timedelta(hours=2))
            else:
                env["Data"] = {"cut": env["Data"][:-5], "pad": env["Data"] + "===", "junk": "!!" + env["Data"],
                               "empty": ""}[case.detail]  # fmt: skip
            env["Sig"] = sign_request(keys.sig_secret, env["OperatorID"], env["Data"], env["TimeStamp"], env["Seq"])
        elif case.broken == "token":
            authorization = "Bearer " + ("0" * 32 if authorization is None else authorization[-32:][::-1])
        elif case.broken == "stranger":
            env["OperatorID"] = "ZZFUZZ999"
            env["Sig"] = sign_request(keys.sig_secret, env["OperatorID"], env["Data"], env["TimeStamp"], env["Seq"])
            platform = None
        elif case.broken == "bytes":
            return bytes.fromhex(case.detail), None, authorization, None
        body = json.dumps(env).encode()
        return body, platform, authorization, body if case.broken == "replay" else None

    def check(self, case: Case) -> None:
        body, platform, authorization, replay = self._body(case)
        reply = self._post(case.interface, body, authorization)
        expected = BREAKS.get(case.broken)
        if replay is not None:
            first = self._verdict(case, reply, platform, REACHED)
            reply = self._post(case.interface, replay, authorization)
            # A refused message rolled back its replay mark with the rest of its transaction: sent again it gets
            # the same refusal. An accepted one is a replay.
            expected = BREAKS["replay"] if first == Ret.OK else frozenset({first})
        self._verdict(case, reply, platform, expected if case.broken else REACHED)

    def _verdict(self, case: Case, reply: Reply, platform: Platform | None, expected: frozenset[int] | None) -> int:
        if reply.seconds > SLOW_SECONDS:
            self._slow(case, reply.seconds)
        ret, problem = self._problem(case, reply, platform, expected or REACHED)
        if problem is not None:
            message = f"{problem} — answer {reply.status} {reply.body[:400]!r}\n    {case!r}"
            self.tally.violations.append(message)
            raise Violation(message)
        return ret

    def _slow(self, case: Case, seconds: float) -> None:
        """A slow answer is sent again (a fresh envelope, the same Data): slow twice, the input is the cause and it
        is counted; fast the second time, the machine was (a loaded CPU, a pause of the sender's own collector when
        the portal answers in-process) and it is counted apart. Not raised: hypothesis' rerun could not tell."""
        body, _, authorization, _ = self._body(case)
        again = self._post(case.interface, body, authorization)
        if again.seconds > SLOW_SECONDS:
            self.tally.slow.append((min(seconds, again.seconds), repr(case)))
        else:
            self.tally.slow_once.append((seconds, repr(case)))

    def _problem(
        self, case: Case, reply: Reply, platform: Platform | None, expected: frozenset[int]
    ) -> tuple[int, str | None]:
        if reply.status != 200:
            self.tally.rets[f"HTTP {reply.status}"] += 1
            return 0, f"HTTP {reply.status}, not 200 with an envelope"
        try:
            envelope = parse_response(reply.body)
        except Exception as exc:
            self.tally.rets["not an envelope"] += 1
            return 0, f"not an envelope: {exc}"
        ret = envelope.ret
        self.tally.rets[str(ret)] += 1
        if ret == Ret.SYSTEM:
            return ret, "Ret 500"
        if ret == Ret.BUSY:
            return ret, "Ret -1 with nothing down"
        if ret == Ret.BUSINESS and not envelope.msg:
            return ret, "Ret 4004 without a Msg naming the field"
        if ret not in expected:
            how = f"an envelope broken by {case.broken}" if expected is not REACHED else "a valid envelope"
            return ret, f"Ret {ret} for {how} (expected {sorted(int(r) for r in expected)})"
        if expected is REACHED:
            self.tally.reached += 1
        if platform is not None and envelope.sig:
            try:
                verify_response(envelope, platform.keys)
            except Exception:
                return ret, "the answer's Sig does not verify with the caller's keys"
        elif platform is not None and case.broken not in ("missing", "type"):
            return ret, "an unsigned answer to a known caller"
        return ret, None

    # -- hypothesis

    def run(self, count: int, seed_value: int, *, batch: int = 5000, progress: Callable[[Tally], None] | None = None):
        """`count` cases drawn by hypothesis, in batches (each a fresh run of `batch` examples, so its memory of
        what it drew stays bounded); stops at the first violation, after shrinking it. Returns the minimal failing
        example's description, or None."""
        for platform in self.plan.platforms:
            self.login(platform)
        done = 0
        while done < count:
            size = min(batch, count - done)
            failure = self._batch(size, seed_value + done)
            done += size
            if progress is not None:
                progress(self.tally)
            if failure is not None:
                return failure
        return None

    def _batch(self, size: int, seed_value: int) -> str | None:
        @seed(seed_value)
        @settings(
            max_examples=size,
            database=None,
            deadline=None,
            derandomize=False,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        @given(case=cases(self.plan))
        def one(case: Case) -> None:
            self.tally.cases += 1
            self.check(case)

        try:
            one()
        except Violation as exc:  # raised by the last example hypothesis ran: the minimal one
            return str(exc)
        except Exception as exc:  # a violation hypothesis could not make happen again (FlakyFailure), or a bug here
            return f"{type(exc).__name__}: {exc}\n" + "\n".join(getattr(exc, "__notes__", []))
        return None
