"""hlht_soak: the portal under mixed traffic for --minutes, sampled and checked exactly-once (apps/demo/soak.py)."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from apps.demo.soak import PREFIX, Options, Soak
from apps.operators.models import Operator


class Command(BaseCommand):
    help = (
        "Soak: gunicorn on PostgreSQL, a Celery worker and beat on Redis, --platforms simulated operator platforms as "
        "processes (status pushes, walk-in and driver sessions, orders, bonus orders, reconciliation every 5 min, the "
        "portal's pulls) and --drivers drivers starting and stopping over the driver API, for --minutes. Samples RSS "
        "per process, the protocol answers' p99 and the queue depths every --sample-every s; then checks that every "
        "push acknowledged is stored once and every session charged once. Writes soak.csv, soak.json and soak.png "
        "to --out. Its operators are MA01SK*; refuses a database with other operators unless --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=float, default=30.0)
        parser.add_argument("--platforms", type=int, default=3)
        parser.add_argument("--stations", type=int, default=100, help="stations per simulated platform")
        parser.add_argument("--walkin-rate", type=float, default=40.0, help="walk-in sessions per connector per day")
        parser.add_argument("--drivers", type=int, default=6)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--sample-every", type=float, default=10.0)
        parser.add_argument("--out", default="", help="folder for the CSV, JSON, PNG and logs (default var/soak)")
        parser.add_argument("--png", default="", help="where to write the picture (default OUT/soak.png)")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--yes", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("the soak runs gunicorn on PostgreSQL: set DATABASE_URL=postgres://…")
        if not settings.CELERY_BROKER_URL.startswith("redis://"):
            raise CommandError("the soak runs Celery on Redis: set CELERY_BROKER_URL=redis://…")
        if Operator.objects.exclude(operator_id__startswith=PREFIX).exists() and not options["yes"]:
            raise CommandError("the database holds other operators; run on a scratch database, or pass --yes")
        if not 0 < options["minutes"] <= 24 * 60 or not 1 <= options["platforms"] <= 9:
            raise CommandError("--minutes must be in (0, 1440] and --platforms in 1–9")
        out = Path(options["out"]) if options["out"] else Path(settings.VAR_DIR) / "soak"
        soak = Soak(
            Options(
                minutes=options["minutes"],
                platforms=options["platforms"],
                stations=options["stations"],
                walkin_rate=options["walkin_rate"],
                drivers=options["drivers"],
                web_workers=options["web_workers"],
                sample_every=options["sample_every"],
                out=out.resolve(),
                png=Path(options["png"]).resolve() if options["png"] else None,
            ),
            say=lambda line: self.stderr.write(line),
        )
        # SIGTERM (a CI timeout, kill) ends the run like Ctrl-C: its processes are stopped, never left behind.
        signal.signal(signal.SIGTERM, _interrupted)
        figures = soak.run()
        csv_path, png = soak.write(figures)
        figures["files"] = {"csv": str(csv_path), "png": str(png)}
        self.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False) if options["json"] else _table(figures))
        if not figures["ok"]:
            raise SystemExit(1)


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _table(f: dict[str, Any]) -> str:
    lines = [
        f"HLHT soak: {f['minutes']:g} min, {f['platforms']} platforms × {f['stations_per_platform']} stations, "
        f"{f['drivers']} drivers, {f['samples']} samples",
        f"{'process':24} {'RSS start':>10} {'end':>8} {'max':>8}  MiB",
    ]
    lines += [f"{n:24} {v['start']:10.1f} {v['end']:8.1f} {v['max']:8.1f}" for n, v in f["rss_mib"].items()]
    p99, q = f["protocol_p99_ms"], f["queue_max"]
    lines += [
        f"protocol answers p99 per 10 s window: median {p99['median_of_samples']} ms, worst {p99['max_of_samples']} ms",
        f"queues, worst sample: celery {q['queue_celery']}, pulls {q['queue_pulls']}, outbox pending {q['outbox']}",
        f"driver API: starts {f['driver_api']['starts']}, stops {f['driver_api']['stops']}, "
        f"sessions {f['driver_api']['outcomes']}, p99 {f['driver_api']['p99_ms']} ms",
        f"{'pushes':45} {'acked':>8} {'journal':>8}",
    ]
    lines += [f"{n:45} {v['acks']:8} {v['journal']:8}" for n, v in f["interfaces"].items()]
    lines += [
        f"{'✓' if c['ok'] else '✗'} {n}: {c['actual']} (expected {c['expected']})" for n, c in f["checks"].items()
    ]
    lines += [f"files: {f['files']['csv']}, {f['files']['png']}", "verdict: " + ("OK" if f["ok"] else "FAILED")]
    return "\n".join(lines)
