"""Reads on a streaming replica (apps/core/replica.py): which requests read there, and a real one.

The last test builds a private primary and a `pg_basebackup -R` streaming standby on free ports (never the suite's
PostgreSQL), serves the portal under gunicorn with DATABASE_URL on the primary and DATABASE_REPLICA_URL on the
standby, and shows, with the standby's replay paused: protocol pushes land on the primary (a token issued after the
pause works, and so does a login made after it), the API and the dashboard read the standby (they still show the
status from before the pause), and the dashboard says how far its data trails; resumed, they show the new status
and say nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from apps.core.replica import REPLICA, ReplicaMiddleware, ReplicaRouter, reads_on_replica, replica_reads
from apps.protocol import Ret, build_request, open_response, parse_response
from apps.stations.models import Connector
from tests.caller import OPERATOR_ID, keyset

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"  # the clusters run as the postgres OS user

# -- which requests read on the replica ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "replica"),
    [
        ("GET", "/admin/", True),  # the dashboard
        ("GET", "/admin/stations/connector/", True),  # a changelist
        ("GET", "/admin/stations/connector/1/change/", True),  # a changeform
        ("GET", "/admin/indicators/indicator/explorer/", True),
        ("HEAD", "/api/connectors/", True),
        ("GET", "/api/status-history/?operator=123456789", True),
        ("POST", "/admin/stations/connector/1/change/", False),  # a write
        ("POST", "/api/driver/sessions/", False),
        ("GET", "/api/driver/wallet/", False),  # a driver reads their own writes
        ("GET", "/admin/login/", False),  # logins and sessions
        ("GET", "/evcs/v1/query_token", False),  # the protocol
        ("GET", "/apply/", False),
        ("GET", "/healthz", False),
    ],
)
def test_a_persons_get_of_the_admin_or_the_api_is_marked_read_only(method, path, replica):
    assert reads_on_replica(RequestFactory().generic(method, path)) is replica


def _decisions(model: type) -> tuple[str, str]:
    router = ReplicaRouter()
    return router.db_for_read(model), router.db_for_write(model)


def test_the_router_reads_on_the_replica_only_inside_a_read_only_request():
    assert _decisions(Connector) == (DEFAULT_DB_ALIAS, DEFAULT_DB_ALIAS)  # a task, a command, the protocol
    with replica_reads():
        assert ReplicaRouter().db_for_read(Connector) == REPLICA
        assert ReplicaRouter().db_for_read(User) == DEFAULT_DB_ALIAS  # auth, sessions: on the primary
        assert ReplicaRouter().db_for_read(Session) == DEFAULT_DB_ALIAS
    assert ReplicaRouter().db_for_read(Connector) == DEFAULT_DB_ALIAS  # the mark ends with the request


def test_a_request_that_wrote_reads_its_own_writes_on_the_primary():
    with replica_reads():
        assert ReplicaRouter().db_for_read(Connector) == REPLICA
        assert ReplicaRouter().db_for_write(Connector) == DEFAULT_DB_ALIAS
        assert ReplicaRouter().db_for_read(Connector) == DEFAULT_DB_ALIAS


@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_stay_on_the_primary():
    with replica_reads():
        assert ReplicaRouter().db_for_read(Connector) == REPLICA
        with transaction.atomic():  # a service reading what it is about to write
            assert ReplicaRouter().db_for_read(Connector) == DEFAULT_DB_ALIAS
        assert ReplicaRouter().db_for_read(Connector) == REPLICA


def test_the_middleware_marks_the_view_and_only_the_view():
    seen: list[str] = []

    def view(request):
        seen.append(ReplicaRouter().db_for_read(Connector))
        return HttpResponse()

    middleware = ReplicaMiddleware(view)
    middleware(RequestFactory().get("/api/connectors/"))
    middleware(RequestFactory().post("/api/connectors/"))
    assert seen == [REPLICA, DEFAULT_DB_ALIAS]
    assert ReplicaRouter().db_for_read(Connector) == DEFAULT_DB_ALIAS


def test_the_replica_alias_and_router_come_with_the_setting_only():
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps([sorted(settings.DATABASES), settings.DATABASE_ROUTERS, "
        "settings.DATABASES.get('replica', {}).get('TEST', {}).get('MIRROR')]))"
    )
    base = {
        **os.environ,
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/a",
        "DJANGO_SETTINGS_MODULE": "hlht_portal.settings",
    }
    base.pop("DATABASE_REPLICA_URL", None)
    without = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True)
    with_replica = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DATABASE_REPLICA_URL": "postgres://u@127.0.0.1:5433/a"},
        capture_output=True,
        text=True,
    )
    assert json.loads(without.stdout) == [["default"], [], None], without.stderr
    assert json.loads(with_replica.stdout) == [
        ["default", "replica"],
        ["apps.core.replica.ReplicaRouter"],
        "default",
    ], with_replica.stderr


# -- a real streaming replica ---------------------------------------------------------------------------------------

SETUP = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from apps.core.roles import REGULATOR
from apps.core.services import roles_sync
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from tests import factories
roles_sync()
keys = operator_provision(operator_id="123456789", name="测试运营商", tel="400-000-0000")
station = factories.station(Operator.objects.get(pk="123456789"), "S1")
factories.connector(factories.equipment(station, "E1"), "C1")
user = User.objects.create_user("reg", password="pw-for-tests-only", is_staff=True)
user.groups.add(Group.objects.get(name=REGULATOR))
print(json.dumps({"inbound": keys["inbound"], "token": Token.objects.create(user=user).key}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str | Path, timeout: float = 60) -> None:
    result = subprocess.run(
        [RUNUSER, "-u", "postgres", "--", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args[0]}: {result.stdout[-1500:]}{result.stderr[-1500:]}"


def _sql(port: int, query: str, database: str = "hlht") -> Any:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=database)
    try:
        conn.autocommit = True  # CREATE DATABASE runs outside a transaction
        with conn.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchone() if cursor.description else None
    finally:
        conn.close()


class Cluster:
    """A private PostgreSQL primary and its streaming standby, in a temporary folder the postgres user owns."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hlht-replica-"))
        shutil.chown(self.root, "postgres", "postgres")
        self.primary_port, self.standby_port = _free_port(), _free_port()
        self.primary, self.standby = self.root / "primary", self.root / "standby"
        self.started: list[Path] = []

    def start(self) -> None:
        _as_postgres(PG_BIN / "initdb", "-D", self.primary, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                     "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        with (self.primary / "postgresql.conf").open("a") as conf:
            # Speed over durability: the folder is thrown away; streaming replication as in production.
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.primary_port}\nunix_socket_directories = '{self.root}'\n"
                "fsync = off\nfull_page_writes = off\nshared_buffers = 32MB\n"
                "max_connections = 40\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
            )
        self._pg_ctl(self.primary, "start")
        _sql(self.primary_port, "CREATE DATABASE hlht", database="postgres")
        _as_postgres(PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", self.primary_port, "-U", "postgres",
                     "-D", self.standby, "-R", "-X", "stream", "-c", "fast", "--no-sync")  # fmt: skip
        with (self.standby / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.standby_port}\n")
        self._pg_ctl(self.standby, "start")

    def _pg_ctl(self, data: Path, action: str, *extra: str) -> None:
        _as_postgres(PG_BIN / "pg_ctl", "-D", data, "-l", data.with_suffix(".log"), "-w", "-t", "30", action, *extra)
        if action == "start":
            self.started.append(data)

    def stop(self) -> None:
        for data in reversed(self.started):
            try:
                self._pg_ctl(data, "stop", "-m", "immediate")  # the folder is thrown away next
            except AssertionError:  # stopped already: nothing left to stop
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/hlht"

    def caught_up(self) -> bool:
        (position,) = _sql(self.primary_port, "SELECT pg_current_wal_insert_lsn()::text")
        (done,) = _sql(self.standby_port, f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn")
        return bool(done)

    def wait_caught_up(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not self.caught_up():
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.1)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "pg_basebackup").exists() or not Path(RUNUSER).exists():
        pytest.fail(f"PostgreSQL 15's binaries ({PG_BIN}) and runuser are needed to build a real replica")
    made = Cluster()
    try:
        made.start()
        yield made
    finally:
        made.stop()


class Portal:
    """The portal under gunicorn, talked to over real HTTP: the protocol as an operator, the API and the admin as a
    regulator."""

    def __init__(self, port: int, inbound: dict[str, str], token: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.keys, self.api_token = keyset(inbound), token
        self.access_token = ""
        self.cookies = CookieJar()
        self.browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def protocol(self, interface: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        body = json.dumps(build_request(OPERATOR_ID, payload, self.keys).to_dict(), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if self.access_token and interface != "query_token":
            headers["Authorization"] = f"Bearer {self.access_token}"
        request = urllib.request.Request(f"{self.base}/evcs/v1/{interface}", data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=20) as response:
            parsed = parse_response(response.read())
        return parsed.ret, open_response(parsed, self.keys) if parsed.sig and parsed.ret == Ret.OK else None

    def login_operator(self) -> None:
        ret, data = self.protocol(
            "query_token", {"OperatorID": OPERATOR_ID, "OperatorSecret": self.keys.operator_secret}
        )
        assert ret == Ret.OK and data is not None and data["SuccStat"] == 0, data
        self.access_token = data["AccessToken"]

    def push_status(self, status: int) -> None:
        ret, _ = self.protocol(
            "notification_stationStatus", {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": status}}
        )
        assert ret == Ret.OK

    def api_status(self) -> int:
        request = urllib.request.Request(
            f"{self.base}/api/connectors/", headers={"Authorization": f"Token {self.api_token}"}
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            rows = json.loads(response.read())["results"]
        return next(row["Status"] for row in rows if row["ConnectorID"] == "C1")

    def login_regulator(self) -> None:
        self.cookies.clear()  # a new session each time
        self.browser.open(f"{self.base}/admin/login/", timeout=20).read()
        csrf = next(c.value for c in self.cookies if c.name == "csrftoken")
        form = urllib.parse.urlencode(
            {"username": "reg", "password": "pw-for-tests-only", "csrfmiddlewaretoken": csrf, "next": "/admin/"}
        ).encode()
        request = urllib.request.Request(f"{self.base}/admin/login/", data=form, headers={"Referer": self.base})
        page = self.browser.open(request, timeout=20).read().decode()
        assert 'id="dashboard"' in page, page[:500]

    def dashboard(self) -> str:
        return self.browser.open(f"{self.base}/admin/", timeout=30).read().decode()


@pytest.fixture
def portal(cluster, tmp_path) -> Iterator[Portal]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hlht_portal.settings",
        "DATABASE_URL": cluster.url(cluster.primary_port),
        "SECRET_KEY": "replica-test-" + "x" * 40,
        "HLHT_VAR_DIR": str(tmp_path),
        "HLHT_ENQUEUE": "apps.core.jobs.discard_enqueue",
        "HLHT_CALLER_CACHE_SECONDS": "0",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    made = json.loads(setup.stdout.strip().splitlines()[-1])
    cluster.wait_caught_up()  # the schema and the rows streamed to the standby

    port = _free_port()
    env |= {
        "DATABASE_REPLICA_URL": cluster.url(cluster.standby_port),
        "HLHT_REPLICA_LAG_WARN": "1",  # say so once the data trails by more than a second
        "HLHT_DASHBOARD_CACHE_SECONDS": "0",  # every visit computes the figures: what it reads is what it shows
        "DB_CONN_MAX_AGE": "0",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "hlht_portal.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("w"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=10).read()
                break
            except OSError:  # not listening yet (URLError), or a worker still booting (a timeout)
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        yield Portal(port, made["inbound"], made["token"])
    finally:
        os.killpg(server.pid, signal.SIGINT)  # gunicorn's quick shutdown: nothing is left to finish
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _primary_status(cluster: Cluster) -> int:
    (status,) = _sql(
        cluster.primary_port,
        "SELECT s.status FROM stations_connectorstatus s JOIN stations_connector c ON c.id = s.connector_id "
        "WHERE c.connector_id = 'C1'",
    )
    return status


@pytest.mark.slow
def test_a_real_streaming_replica_serves_the_reads_while_pushes_land_on_the_primary(cluster, portal):
    portal.login_operator()
    portal.push_status(1)  # 空闲
    assert _primary_status(cluster) == 1
    cluster.wait_caught_up()
    assert portal.api_status() == 1
    portal.login_regulator()
    assert 'id="replica-lag"' not in portal.dashboard()

    _sql(cluster.standby_port, "SELECT pg_wal_replay_pause()")
    portal.login_operator()  # a token that exists on the primary only: the protocol reads the primary
    portal.push_status(3)  # 充电中
    assert _primary_status(cluster) == 3
    time.sleep(1.5)  # the standby now trails by more than HLHT_REPLICA_LAG_WARN
    assert portal.api_status() == 1  # the API read the standby, which has not replayed the push
    portal.login_regulator()  # a session that exists on the primary only: logins and sessions read the primary
    page = portal.dashboard()
    assert 'id="replica-lag"' in page and "数据延迟" in page and "副本回放已暂停" in page, page[:2000]
    assert _status_cells(page) == {1: 1}  # the figures as the standby has them: the connector still free

    _sql(cluster.standby_port, "SELECT pg_wal_replay_resume()")
    cluster.wait_caught_up()
    assert portal.api_status() == 3
    page = portal.dashboard()
    assert 'id="replica-lag"' not in page
    assert _status_cells(page) == {3: 1}  # replayed: charging


def _status_cells(page: str) -> dict[int, int]:
    """The dashboard's connector-status panel: status code → connectors in it now (each cell links to its list)."""
    panel = page[page.index('id="kpi-connectors"') :]
    panel = panel[: panel.index("</section>")]
    return {
        int(code): int(count)
        for code, count in re.findall(
            r"current_status__status__exact=(\d+)\"[^>]*>.*?</span>[^<]*? ([\d,]+)</a>", panel
        )
    }
