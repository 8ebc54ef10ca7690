"""apps.protocol stands alone: it imports in an interpreter that has only pycryptodome and requests.

The interpreter runs without site-packages (`-S -E`); its path holds the protocol package (under an empty `apps`
package) and exactly the distributions of pycryptodome and requests with what requests needs. Every module is
imported and a request is built, received through the pipeline and answered, so a stray import of Django or of a
portal app fails here, not in the simulator's or a conformance tool's environment.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import apps.protocol

ALLOWED = ["pycryptodome", "requests", "urllib3", "idna", "certifi", "charset-normalizer"]

SCRIPT = r"""
import importlib, pkgutil, sys
import apps.protocol as protocol
for module in pkgutil.walk_packages(protocol.__path__, "apps.protocol."):
    importlib.import_module(module.name)
from apps.protocol import KeySet, Ret, build_request, now, open_response, parse_response
from apps.protocol.receive import Caller, Pipeline, Request, Route
keys = KeySet("s" * 16, "d" * 16, "i" * 16, "g" * 16)
pipeline = Pipeline(
    callers=lambda operator_id, fresh: Caller(operator_id, (keys,)),
    routes={"echo": Route("echo", lambda ctx, payload: {"Echo": payload}, token_required=False)},
    tokens=lambda caller, token: False,
    replay=lambda caller, envelope: True,
    clock=now,
    window=lambda: 300,
)
body = build_request("123456789", {"A": 1}, keys).to_json()
answer = parse_response(pipeline.receive(Request("POST", "echo", body)).body())
assert answer.ret == Ret.OK and open_response(answer, keys) == {"Echo": {"A": 1}}, answer
third_party = sorted({name.split(".")[0] for name in sys.modules} & {"django", "rest_framework", "celery", "environ"})
print("ok", third_party)
"""


def _installed_path(distribution: str) -> list[Path]:
    """The top-level packages (or modules) a distribution installed."""
    dist = importlib.metadata.distribution(distribution)
    tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith(("..", "/"))}
    tops = {t for t in tops if not t.endswith((".dist-info", ".egg-info")) and t != "__pycache__"}
    return [Path(dist.locate_file(t)) for t in sorted(tops)]


@pytest.fixture
def bare_path(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    for distribution in ALLOWED:
        for path in _installed_path(distribution):
            (site / path.name).symlink_to(path)
    package = tmp_path / "src" / "apps"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "protocol").symlink_to(Path(apps.protocol.__file__).parent)
    return tmp_path


def test_the_protocol_package_runs_with_only_pycryptodome_and_requests(bare_path: Path) -> None:
    code = f"import sys; sys.path[:0] = [{str(bare_path / 'src')!r}, {str(bare_path / 'site')!r}]\n" + SCRIPT
    result = subprocess.run(
        [sys.executable, "-S", "-E", "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok []"


def test_the_bare_path_really_lacks_django(bare_path: Path) -> None:
    code = f"import sys; sys.path[:0] = [{str(bare_path / 'site')!r}]\nimport django"
    result = subprocess.run([sys.executable, "-S", "-E", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "No module named 'django'" in result.stderr
