"""Shared fixtures: one real moto server over HTTP per test session (per xdist worker)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook_lib.model import Target
from runbook_lib.sandbox import provision
from runbook_lib.sandbox import server as sandbox

ROOT = Path(__file__).resolve().parent.parent
# Files run first, in this order, when the suite is split by file (`make test`'s e2e run,
# `--dist loadfile --no-loadscope-reorder`): each holds minutes of Terraform in one worker,
# so starting them last would leave one core idle at the end. Scheduling only: no test
# depends on the order.
LONGEST_FIRST = (
    "tests/e2e/test_corpus_terraform.py",
    "tests/e2e/test_migrate_terraform.py",
    "tests/e2e/test_terraform_apply.py",
    "tests/e2e/notebooks/test_00_onboarding.py",
    "tests/e2e/test_sandbox.py",
)
SANDBOX_ENV_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """LONGEST_FIRST's files first; the rest keep pytest's order (a stable sort)."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
    on_server = [
        i.nodeid
        for i in items
        if "tests/unit/" in i.nodeid and "moto_url" in getattr(i, "fixturenames", ())
    ]
    if on_server:
        raise pytest.UsageError(
            "tests/unit runs without a server, but these tests use the moto server (moto_url): "
            "move them to tests/aws: " + ", ".join(on_server)
        )


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests never touch the developer's own .runbook/ state."""
    path = tmp_path_factory.mktemp("runbook-state")
    os.environ["RUNBOOK_STATE_DIR"] = str(path)
    os.environ["RUNBOOK_HOME"] = str(ROOT)
    return path


@pytest.fixture(scope="session")
def moto_url(state_dir: Path) -> Iterator[str]:
    """A moto server on a free loopback port; the process env points boto3 at it."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", *SANDBOX_ENV_KEYS):
        os.environ.pop(key, None)
    pid, url = sandbox.start_server(log_path=state_dir / "moto-tests.log")
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_DEFAULT_REGION": sandbox.REGION,
            "AWS_REGION": sandbox.REGION,
            "AWS_ACCESS_KEY_ID": sandbox.DUMMY_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": sandbox.DUMMY_SECRET,
        }
    )
    yield url
    sandbox.stop_pid(pid)


@contextlib.contextmanager
def own_sandbox(folder: Path, days: int) -> Iterator[sandbox.SandboxInfo]:
    """A provisioned sandbox of a test module's own (table from the HCL, seeded history and
    backup): the fixed table name would collide on the shared server."""
    pid, url = sandbox.start_server(log_path=folder / "moto.log")
    try:
        info = sandbox.SandboxInfo(url=url, pid=pid)
        yield provision.provision(info, days=days, use_terraform=False, log=lambda _msg: None)
    finally:
        sandbox.stop_pid(pid)


@pytest.fixture
def ddb(moto_url: str):
    from runbook_lib import aws

    return aws.client("dynamodb")


def make_table(ddb, name: str | None = None, key: str = "stat") -> str:
    name = name or f"t-{uuid.uuid4().hex[:12]}-VisitorCount"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def table(ddb) -> str:
    """A fresh, empty counter table (unique name: tests share one server)."""
    return make_table(ddb)


@pytest.fixture
def target(table: str, moto_url: str) -> Target:
    return Target(table=table, endpoint=moto_url, region=sandbox.REGION)


@pytest.fixture
def backups(_no_runbook_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Item backups and the audit log of this test, in its own folder, not the checkout's
    (a notebook's kernel inherits it too). After `_no_runbook_env`, which would unset it.
    A module whose every test writes backups uses it with pytest.mark.usefixtures."""
    folder = tmp_path / "backups"
    monkeypatch.setenv("RUNBOOK_BACKUPS", str(folder))
    return folder


@pytest.fixture
def live42(target: Target, ddb, backups: Path) -> Target:
    """A counter holding 42."""
    from runbook_lib.aws import counter

    counter.init_counter(target, initial=42, ddb=ddb)
    return target


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def tree_hash(folder: Path) -> dict[str, str]:
    """Every file under folder (a state file included) -> sha256 of its bytes: a folder
    that must come out of a run byte for byte as it went in."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_file(path: Path, text: str) -> Path:
    """`text` written at `path`, its folders made first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _no_runbook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's RUNBOOK_* settings must not leak into tests."""
    for key in list(os.environ):
        if key.startswith("RUNBOOK_") and key not in ("RUNBOOK_STATE_DIR", "RUNBOOK_HOME"):
            monkeypatch.delenv(key, raising=False)


# ---- every report the suite writes is scanned for credentials ------------------------------

REPORT_SUFFIXES = {".ipynb", ".html", ".json", ".jsonl", ".csv", ".log", ".txt"}


def scan_for_secrets(root: Path) -> list[str]:
    """Files under root (reports, audit logs, results) holding a credential pattern or the
    sandbox's dummy keys."""
    from runbook_lib.redact import find_secrets

    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix not in REPORT_SUFFIXES or "moto" in path.name:
            continue
        text = path.read_text(errors="replace")
        found = find_secrets(text, extra=(sandbox.DUMMY_KEY_ID, sandbox.DUMMY_SECRET))
        if found:
            hits.append(f"{path}: {', '.join(found)}")
    return hits


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # xdist workers: the controller scans everything once at the end
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    hits = scan_for_secrets(factory.getbasetemp())
    if hits:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_sep("!", "credentials found in reports written by the suite")
            for hit in hits:
                reporter.write_line(hit)
        session.exitstatus = 1
