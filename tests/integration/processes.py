"""Real processes for the fault tests: a private PostgreSQL cluster, a private Redis, the portal under gunicorn, a
Celery worker, and a platform that signs its messages and resends what was not acknowledged. Each process is one
the test started, stopped by its own PID (or process group): the shared PostgreSQL and Redis are never touched."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.db import connections

from apps.core.conf import conf
from apps.demo.benchkit import database_url, free_port
from apps.protocol import KeySet, SeqGenerator, build_request, open_response, parse_response
from apps.protocol.names import Interface

BIN = Path(sys.executable).parent
ROOT = Path(settings.BASE_DIR)


def wait_port(port: int, process: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    """Until something accepts connections on `port` (AssertionError if `process` exits first or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process is None or process.poll() is None, f"{process.args[0]} exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout} s")


def stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Signal the process group the test started (`start_new_session`), SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


# -- PostgreSQL ---------------------------------------------------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    assert found, "the PostgreSQL server binaries (postgresql-15) are needed for the fault tests"
    return found[-1].parent


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (its data directory in a temporary folder, its own port), so it can be
    stopped and started under load. initdb and pg_ctl refuse to run as root: as root they run as `postgres`."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="hlht-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
                  "--no-sync")  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_owner, str(self.bin / tool), *args], check=True, capture_output=True)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        # fsync off: a test cluster, stopped cleanly (a fast shutdown still writes its checkpoint).
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def copy_of_test_database(self, name: str) -> str:
        """A database here holding what the test database holds now (its schema, migrations and rows): faster than
        migrating, and the test writes its fixtures with the ORM first."""
        connections.close_all()
        psql = [str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                "-U", "postgres"]  # fmt: skip
        subprocess.run([*psql, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
        dump = subprocess.Popen([str(self.bin / "pg_dump"), "--no-owner", "--no-acl", "-d", database_url()],
                                stdout=subprocess.PIPE)  # fmt: skip
        subprocess.run([*psql, "-d", name], stdin=dump.stdout, check=True, capture_output=True)
        assert dump.wait() == 0
        return self.url(name)

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


# -- Redis --------------------------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own, keeping nothing on disk: a restart loses every queue, as a crash does."""

    def __init__(self) -> None:
        assert shutil.which("redis-server"), "redis-server is needed for the fault tests"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                   "no", "--loglevel", "warning"]  # fmt: skip
        self.process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
        wait_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
            self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextmanager
def celery_publishing_to(url: str) -> Iterator[None]:
    """This process's Celery app publishing to the broker at `url` (as the portal's processes do), then back."""
    from hlht_portal.celery import app

    previous = app.conf.broker_write_url
    app.conf.broker_write_url = url  # what publishing connects to (set from broker_url at setup)
    app._pool = None  # the connection and producer pools are made from it on first use
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_write_url = previous
        app._pool = None
        app.amqp._producer_pool = None


# -- the portal's processes ---------------------------------------------------------------------------------------


def portal_env(database: str, **extra: str) -> dict[str, str]:
    """The environment of a portal process on `database` (the tests' own settings where they matter)."""
    return {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "hlht_portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "HLHT_VAR_DIR": str(settings.VAR_DIR),
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HLHT_ALLOW_PRIVATE_ENDPOINTS": "1",
        "HLHT_ENQUEUE": "apps.core.jobs.discard_enqueue",
        **extra,
    }


@contextmanager
def gunicorn(database: str, *, workers: int = 2, **extra: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The portal under gunicorn (sync workers, as README's Production section runs it); yields its protocol URL."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "hlht_portal.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
               str(workers), "--log-level", "warning", "--chdir", str(ROOT)]  # fmt: skip
    connections.close_all()
    # Its log (a line per Ret -1 while the database is down) goes to a file, not the test's output.
    log = tempfile.NamedTemporaryFile(prefix="hlht-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(command, env=portal_env(database, **extra), cwd=ROOT, start_new_session=True,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    server.log_path = log.name  # type: ignore[attr-defined]
    try:
        wait_port(port, server)
        yield f"http://127.0.0.1:{port}/{conf().protocol.prefix}", server
    finally:
        finish(server)


def celery_worker(database: str, broker: str, queues: str, *, concurrency: int = 2, **extra: str) -> subprocess.Popen:
    """`celery -A hlht_portal worker` (prefork, as in production) in a process group of its own."""
    command = [str(BIN / "celery"), "-A", "hlht_portal", "worker", "-Q", queues, "-c", str(concurrency), "-l",
               "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n",
               f"faults-{os.getpid()}-{time.monotonic_ns()}@%h"]  # fmt: skip
    env = portal_env(database, CELERY_BROKER_URL=broker, HLHT_ENQUEUE="apps.core.jobs.celery_enqueue", **extra)
    log = tempfile.NamedTemporaryFile(prefix="hlht-worker-", suffix=".log", delete=False)  # noqa: SIM115 - read later
    worker = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    worker.log_path = log.name  # type: ignore[attr-defined]
    return worker


def log_of(process: subprocess.Popen) -> str:
    """What a gunicorn or worker the test started has written so far."""
    return Path(process.log_path).read_text(errors="replace")  # type: ignore[attr-defined]


def finish(process: subprocess.Popen) -> None:
    """Stop a gunicorn or worker the test started and remove its log."""
    stop_group(process)
    Path(process.log_path).unlink(missing_ok=True)  # type: ignore[attr-defined]


# -- a platform that signs, sends and resends ---------------------------------------------------------------------


@dataclass
class Platform:
    """An operator platform calling the portal over HTTP: signs each message with the keys the portal issued, and
    resends (a new envelope, the same content) until it is acknowledged, as a platform does after a Ret -1 or a
    refused connection. Every answer is tallied; one that is not a JSON envelope is kept to be reported."""

    base_url: str
    operator_id: str
    keys: KeySet
    token: str = ""
    seq: SeqGenerator = field(default_factory=SeqGenerator)
    answers: Counter = field(default_factory=Counter)
    strays: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, interface: str, payload: dict[str, Any], session: requests.Session, **envelope: str) -> Any:
        """One attempt: (Ret, Msg, Data) for an envelope, "refused" when no connection could be made or kept."""
        body = build_request(self.operator_id, payload, self.keys, seq_generator=self.seq, **envelope).to_json()
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = session.post(self.base_url + interface, data=body, headers=headers, timeout=15)
        except requests.ConnectionError:
            self._tally("refused")
            return "refused", "", None
        try:
            assert response.headers.get("Content-Type", "").startswith("application/json")
            answer = parse_response(response.content)
        except (AssertionError, ValueError) as exc:
            self._tally("stray")
            with self.lock:
                self.strays.append(f"{response.status_code} {response.content[:200]!r} ({exc})")
            return "stray", "", None
        self._tally(answer.ret)
        data = open_response(answer, self.keys) if answer.ret == 0 else None
        return answer.ret, answer.msg, data

    def _tally(self, what: Any) -> None:
        with self.lock:
            self.answers[what] += 1

    def login(self, session: requests.Session) -> None:
        secret = {"OperatorID": self.operator_id, "OperatorSecret": self.keys.operator_secret}
        ret, msg, data = self.post(Interface.QUERY_TOKEN, secret, session)
        assert ret == 0 and data and data["SuccStat"] == 0, (ret, msg, data)
        self.token = data["AccessToken"]

    def deliver(self, interface: str, payload: dict[str, Any], session: requests.Session, timeout: float = 60) -> Any:
        """Send until acknowledged (Ret 0); resend after a Ret -1 or a refused connection, 0.2 s apart."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ret, msg, data = self.post(interface, payload, session)
            if ret == 0:
                return data
            if ret not in (-1, "refused"):
                raise AssertionError(f"{interface}: {ret} {msg}")
            time.sleep(0.2)
        raise AssertionError(f"{interface} not acknowledged in {timeout} s: {self.answers}")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
