"""The counter Lambda and the guide's handler, loaded from terraform/lambda/, with the
environment lambda.tf gives the function: shared by the Lambda's tests in tests/aws and
the sandbox's concurrency tests in tests/e2e. A test module imports the `*_fixture`
functions; pytest knows them by their fixture names (counter, guide, lambda_env)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

LAMBDA_DIR = Path(__file__).resolve().parents[1] / "terraform" / "lambda"
THREADS = 8
VISITS_PER_THREAD = 250
ROUNDS = 3
# Only ends a barrier wait when a thread died (a broken run would hang otherwise); never
# reached by a healthy run, however slow.
HANG_GUARD_S = 120


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"lambda_{name}", LAMBDA_DIR / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", name="counter")
def counter_fixture() -> ModuleType:
    return _load("visitor_counter")


@pytest.fixture(scope="module", name="guide")
def guide_fixture() -> ModuleType:
    return _load("guide_counter")


@pytest.fixture(name="lambda_env")
def lambda_env_fixture(
    table: str, monkeypatch: pytest.MonkeyPatch, counter: ModuleType
) -> Iterator[str]:
    """The environment lambda.tf gives the function, pointing at a fresh table."""
    for key, value in {
        "TABLE_NAME": table,
        "KEY_NAME": "stat",
        "KEY_VALUE": "Quantity",
        "COUNT_ATTRIBUTE": "viewCount",
        "METRIC_NAMESPACE": "VisitorCounter",
        "METRIC_NAME": "ViewCount",
        "ALLOW_ORIGIN": "https://resume.example.com",
    }.items():
        monkeypatch.setenv(key, value)
    counter.reset_client()
    yield table
    counter.reset_client()


def _stored_count(ddb, table: str) -> int | None:
    item = ddb.get_item(TableName=table, Key={"stat": {"S": "Quantity"}}, ConsistentRead=True)
    return int(item["Item"]["viewCount"]["N"]) if "Item" in item else None


def _hammer(call: Callable[[], object], threads: int, per_thread: int) -> None:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(lambda: [call() for _ in range(per_thread)]) for _ in range(threads)]
        for future in futures:
            future.result()
