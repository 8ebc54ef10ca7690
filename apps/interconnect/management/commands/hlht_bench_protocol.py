"""Benchmark: server-side cost of the receive pipeline per message (prints medians; not a test)."""

import json
import statistics
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client

from apps.core.conf import conf
from apps.interconnect.models import Exchange, SeenEnvelope
from apps.interconnect.registry import REGISTRY, interface
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import KeySet, SeqGenerator, build_request, open_response, parse_response
from apps.protocol.names import Interface

BENCH_ID = "BENCH0001"
PAYLOAD = {
    "ConnectorStatusInfo": {
        "ConnectorID": "10000000000000000000000001",
        "Status": 3,
        "ParkStatus": 50,
        "LockStatus": 10,
    }
}


class Command(BaseCommand):
    help = (
        "Measure the protocol pipeline per message on the configured database (a temporary operator is removed after)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=2000)
        parser.add_argument("--rounds", type=int, default=5)

    def handle(self, *args, messages, rounds, **options):
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        keys = operator_provision(operator_id=BENCH_ID, name="benchmark")["inbound"]
        keyset = KeySet(keys["OperatorSecret"], keys["DataSecret"], keys["DataSecretIV"], keys["SigSecret"])

        @interface("bench_noop")
        def noop(ctx, payload):
            return {"Status": 0}

        client, seq = Client(), SeqGenerator()
        try:
            token = self._token(client, keyset, seq)
            headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            medians, p99s = [], []
            for _ in range(rounds):
                bodies = [
                    build_request(BENCH_ID, PAYLOAD, keyset, seq_generator=seq).to_json() for _ in range(messages)
                ]
                costs = []
                for body in bodies:
                    started = time.perf_counter()
                    response = client.post(
                        f"/{conf().protocol.prefix}bench_noop",
                        data=body,
                        content_type="application/json",
                        **headers,
                    )
                    costs.append((time.perf_counter() - started) * 1e6)
                    if json.loads(response.content)["Ret"] != 0:
                        raise SystemExit(f"unexpected answer: {response.content[:200]!r}")
                costs.sort()
                medians.append(statistics.median(costs))
                p99s.append(costs[int(len(costs) * 0.99) - 1])
            journal = list(
                Exchange.objects.filter(operator_id=BENCH_ID, interface="bench_noop").values_list(
                    "latency_ms", flat=True
                )
            )
            engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
            self.stdout.write(
                f"database={engine} messages={messages} rounds={rounds}\n"
                f"per message, full request (test client, middleware, pipeline, journal): "
                f"median {statistics.median(medians):.0f} µs, p99 {statistics.median(p99s):.0f} µs "
                f"(round medians: {', '.join(f'{m:.0f}' for m in medians)})\n"
                f"pipeline as journalled (view entry → answer built): median {statistics.median(journal) * 1000:.0f} µs"
            )
        finally:
            REGISTRY.pop("bench_noop", None)
            Exchange.objects.filter(operator_id=BENCH_ID).delete()
            SeenEnvelope.objects.filter(operator_id=BENCH_ID).delete()
            Operator.objects.filter(pk=BENCH_ID).delete()

    def _token(self, client, keyset, seq):
        body = build_request(
            BENCH_ID, {"OperatorID": BENCH_ID, "OperatorSecret": keyset.operator_secret}, keyset, seq_generator=seq
        ).to_json()
        answer = open_response(
            parse_response(
                client.post(
                    f"/{conf().protocol.prefix}{Interface.QUERY_TOKEN}",
                    data=body,
                    content_type="application/json",
                ).content
            ),
            keyset,
        )
        if answer is None:
            raise CommandError("query_token answered without Data")
        return answer["AccessToken"]
