"""`make bench`'s harness, run small: every figure lands in the results file, sane.

GIVEN `python -m bench.run --quick` (tiny tables, two runs, no dynamodump, Terraform or demo)
WHEN it runs against its own moto servers
THEN the results file holds every figure of issues 6 and 12, each measured with
median/min/max/runs and a target verdict, or marked as skipped with the reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = (
    "status_vs_kernel_floor",
    "status_vs_papermill_floor",
    "api_calls",
    "export_items_per_s",
    "export_vs_scan_ratio",
    "restore_vs_batchwrite_ratio",
    "restore_read_back_all_vs_batchwrite_ratio",
    "dynamodump",
    "export_rss_growth_mb",
    "sandbox_up_s",
    "demo_s",
)


def _sane(fig: dict, *, target: bool = True) -> None:
    assert fig["runs"] >= 1 and len(fig["values"]) == fig["runs"]
    assert 0 <= fig["min"] <= fig["median"] <= fig["max"], fig
    assert fig["unit"]
    if target:
        assert fig["target"] and isinstance(fig["met"], bool), fig


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| status_vs_kernel_floor |" in proc.stdout  # the README table
    assert "| status_vs_papermill_floor |" in proc.stdout
    return json.loads(out.read_text())


@pytest.mark.slow
def test_every_figure_is_in_the_results(results):
    assert set(FIGURES) <= set(results)
    assert results["meta"]["quick"] is True and results["meta"]["cpus"] >= 1


@pytest.mark.slow
def test_the_runner_is_measured_against_both_floors_side_by_side(results):
    kernel, papermill = results["status_vs_kernel_floor"], results["status_vs_papermill_floor"]
    _sane(kernel)
    _sane(papermill)
    # the same rounds: one set of `runbook run` times, each floor's own
    assert kernel["status_s"] == papermill["status_s"]
    assert kernel["runs"] == papermill["runs"] == kernel["status_s"]["runs"]
    # a run does all a bare kernel round trip does, and more: start, cells, shutdown
    assert kernel["min"] > 1
    assert kernel["status_s"]["median"] > kernel["floor_s"]["median"] > 0
    assert papermill["floor_s"]["median"] > 0
    breakdown = kernel["breakdown_s"]
    assert breakdown["kernel_launch_s"] > 0 and breakdown["cells_s"] > 0
    assert kernel["runner_heavy_imports"] == [] and kernel["status_notebook_heavy_imports"] == []


@pytest.mark.slow
def test_api_calls_are_counted_against_their_minimum(results):
    calls = results["api_calls"]
    assert calls["init"]["operations"] == {"dynamodb:PutItem": 1} and calls["init"]["met"]
    assert calls["read"]["operations"] == {"dynamodb:GetItem": 1} and calls["read"]["met"]
    assert calls["set"]["writes"] == 1 and calls["set"]["dynamodb_reads"] >= 1
    status = calls["status"]
    # structural: every answer was held until all six requests were out, and they all got out
    assert status["calls"] == 6 and status["sequential_depth"] == 1, status
    assert status["sent_before_first_answer"] == status["http_attempts"] == 6, status
    for days in ("1", "15", "63", "455"):
        h = calls["history"][days]
        assert h["get_metric_data_calls"] == h["minimum"] == 1, h
        assert h["get_metric_statistics_calls_needed"] >= h["metrics"]


@pytest.mark.slow
def test_table_figures_are_sane(results):
    _sane(results["export_items_per_s"])
    _sane(results["export_vs_scan_ratio"])
    _sane(results["restore_vs_batchwrite_ratio"])
    _sane(results["restore_read_back_all_vs_batchwrite_ratio"], target=False)
    assert results["export_items_per_s"]["median"] > 0
    rss = results["export_rss_growth_mb"]
    sizes = [k for k in rss if k != "met"]
    assert len(sizes) == 2 and isinstance(rss["met"], bool)
    for size in sizes:
        _sane(rss[size])
        assert rss[size]["median"] < 200  # MB: a tiny export grows the process a little
    for kind in ("export", "restore"):
        assert "skipped" in results["dynamodump"][kind]  # quick mode: 25 s of sleeps each


@pytest.mark.slow
def test_command_timings(results):
    _sane(results["sandbox_up_s"]["without_terraform"], target=False)
    assert "skipped" in results["sandbox_up_s"]["with_terraform"]
    assert "skipped" in results["demo_s"]


# ---- the depth measure itself: structural, so it can fail, and never reads a clock --------


def _get(client, table: str) -> None:
    client.get_item(TableName=table, Key={"stat": {"S": "Quantity"}})


def test_independent_requests_measure_depth_1_however_late_they_start(ddb, table):
    """Two reads on two threads, the second started only once the first is at the gate
    (sent, answer held): depth 1, because neither needs the other's answer."""
    import threading

    from bench import calls

    with calls.counting(hold_until=2) as log:
        first_sent = threading.Event()
        log_send = log.before_send

        def mark(**kwargs):
            log_send(**kwargs)
            first_sent.set()

        log.before_send = mark  # hooks are bound when clients are made, below
        client = calls.aws.client("dynamodb")
        one = threading.Thread(target=_get, args=(client, table))
        one.start()
        assert first_sent.wait(10)
        two = threading.Thread(target=_get, args=(client, table))
        two.start()
        one.join(), two.join()
    assert log.sent_before_first_answer == 2
    assert log.depth() == 1


def test_a_request_that_waits_for_an_answer_measures_deeper(ddb, table, monkeypatch):
    """The second read starts (on another thread) only after the first one's answer: the gate
    can never see both out, so the depth is 2, not 1 (the measure can fail)."""
    import threading

    from bench import calls

    monkeypatch.setattr(calls, "GATE_TIMEOUT_S", 0.2)  # only ends the wait; not a measure
    with calls.counting(hold_until=2) as log:
        client = calls.aws.client("dynamodb")
        for _ in range(2):
            worker = threading.Thread(target=_get, args=(client, table))
            worker.start()
            worker.join()
    assert log.sent_before_first_answer == 1
    assert log.depth() == 2


def test_calls_on_one_thread_are_as_deep_as_they_are_many(ddb, table):
    from bench import calls

    with calls.counting() as log:
        client = calls.aws.client("dynamodb")
        _get(client, table), _get(client, table), _get(client, table)
    assert log.depth() == 3 and log.summary()["sequential_depth"] == 3
