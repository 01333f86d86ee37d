"""Bad input (issue 6, section 3): every refusal says what went wrong and what to do, and
leaves the table byte-for-byte as it was, with no backup, audit or export file written.

The catalogue is data (`tests/badinput_cases.py`) run through the library entry points the
notebooks call; a representative few go through `runner.run_notebook` and the `runbook`
console script to show the summary and the exit code a user or a scheduler sees.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runbook_lib.aws import counter
from runbook_lib.errors import InvalidInputError, RunbookError
from runbook_lib.formats import itemfile
from runbook_lib.notebook import runner
from runbook_lib.sandbox import server as sandbox
from runbook_lib.steps import backup, setcount, status
from runbook_lib.target.model import Target
from tests.badinput_cases import (
    CASES,
    EXTRAS,
    FILE,
    PARAMETER,
    STATE,
    STATES,
    Case,
    Ctx,
    flip_crc,
)
from tests.conftest import make_table

pytestmark = pytest.mark.badinput
FIX = "fix the parameter"
INTACT = "pick an intact backup file"
ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = Path(sys.executable).with_name("runbook")
TABLE_FACTS = (
    "TableName",
    "TableStatus",
    "KeySchema",
    "AttributeDefinitions",
    "BillingModeSummary",
    "ProvisionedThroughput",
    "ItemCount",
    "DeletionProtectionEnabled",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
)


# ---- fixtures and the snapshot -------------------------------------------------------------


@dataclass(frozen=True)
class Folders:
    src: Path  # input files a case arranges
    backups: Path  # RUNBOOK_BACKUPS
    run_dir: Path  # RUNBOOK_RUN_DIR (a notebook's CSV)
    reports: Path  # RUNBOOK_REPORTS, and `out` of notebook runs


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Folders:
    """Backups, artifacts and reports in tmp_path: the kernel and the CLI inherit this."""
    f = Folders(tmp_path / "src", tmp_path / "backups", tmp_path / "run", tmp_path / "reports")
    f.src.mkdir()
    monkeypatch.setenv("RUNBOOK_BACKUPS", str(f.backups))
    monkeypatch.setenv("RUNBOOK_RUN_DIR", str(f.run_dir))
    monkeypatch.setenv("RUNBOOK_REPORTS", str(f.reports))
    return f


def _wire(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(type(value).__name__)


def table_snapshot(ddb: Any, name: str) -> dict[str, Any]:
    """DescribeTable's key facts, PITR and native backups, and every item from a full
    consistent Scan, each item serialized as wire-format JSON, sorted."""
    try:
        desc = ddb.describe_table(TableName=name)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        return {"missing": True}
    items: list[str] = []
    req: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    while True:
        page = ddb.scan(**req)
        items += [json.dumps(i, sort_keys=True, default=_wire) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        req["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    backups = ddb.list_backups(TableName=name)["BackupSummaries"]
    return {
        "facts": {k: desc.get(k) for k in TABLE_FACTS},
        "pitr": pitr,
        "native_backups": sorted(b["BackupArn"] for b in backups),
        "items": sorted(items),
    }


def files(root: Path) -> dict[str, str]:
    """Every file under root with its sha256."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def snapshot(ctx: Ctx, *, with_backups: bool = True) -> bytes:
    """Bytes to compare before and after: the watched tables, the server's table names,
    and the files under the input, artifact and (unless told otherwise) backups folders."""
    tables = []
    for page in ctx.ddb.get_paginator("list_tables").paginate():
        tables += page["TableNames"]
    state = {
        "tables": {name: table_snapshot(ctx.ddb, name) for name in ctx.watched},
        "table_names": sorted(tables),
        "src": files(ctx.src),
        "backups": files(ctx.backups) if with_backups else None,
        "run_dir": files(ctx.run_dir),
    }
    return json.dumps(state, sort_keys=True, default=str).encode("utf-8")


def make_ctx(ddb: Any, moto_url: str, state: str, f: Folders) -> Ctx:
    """The counter table in `state` (a fresh, uniquely named table; or none at all)."""
    if state == "no_table":
        name = f"bi-missing-{uuid.uuid4().hex[:10]}-VisitorCount"
    else:
        name = make_table(ddb, f"bi-{uuid.uuid4().hex[:10]}-VisitorCount")
        if STATES[state] is not None:
            ddb.put_item(TableName=name, Item=STATES[state])
    target = Target(table=name, endpoint=moto_url, region=sandbox.REGION)
    return Ctx(ddb, target, f.src, f.backups, f.run_dir, watched=[name])


def assert_actionable(exc: BaseException, what: str, todo: str) -> None:
    """The message names the problem (`what`) and a next step (the hint, matching `todo`)."""
    message = str(exc)
    assert isinstance(exc, RunbookError), f"not a runbook error: {type(exc).__name__}: {exc}"
    assert re.search(what, message, re.S), f"{what!r} not in the message:\n{message}"
    assert len(exc.hint) >= 15 and f"Next step: {exc.hint}" in message, message
    assert re.search(todo, exc.hint), f"{todo!r} not in the next step: {exc.hint}"


# ---- the catalogue -------------------------------------------------------------------------


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=f"GAP: {case.gap}")] if case.gap else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(
    case: Case, ddb: Any, moto_url: str, folders: Folders
) -> None:
    ctx = make_ctx(ddb, moto_url, case.state, folders)
    if case.arrange:
        ctx.arranged = case.arrange(ctx)
    before = snapshot(ctx, with_backups=not case.writes_backup)

    if case.error is None:  # a report (status, a no-op): the text a user reads
        text = str(case.act(ctx))
        assert re.search(case.what, text, re.S), f"{case.what!r} not in:\n{text}"
        assert re.search(case.todo, text, re.S), f"{case.todo!r} not in:\n{text}"
    else:
        with pytest.raises(case.error) as info:
            case.act(ctx)
        assert_actionable(info.value, case.what, case.todo)

    if case.writes_backup:  # a write of the same values: only the live-item backup is new
        assert files(folders.backups), "a live-item backup comes before every write"
    else:
        assert files(folders.backups) == {}, "a refusal writes no backup, audit or export"
    assert snapshot(ctx, with_backups=not case.writes_backup) == before


def test_catalogue_covers_every_notebook_and_category() -> None:
    by_group = collections.Counter(c.group for c in CASES)
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)
    assert by_group[PARAMETER] >= 10 and by_group[FILE] >= 10 and by_group[STATE] >= 10
    prefixes = {c.id.split("/")[0] for c in CASES if c.group == PARAMETER}
    assert {"init", "status", "set", "04", "05", "06", "runner", "target"} <= prefixes
    states = {c.state for c in CASES}
    assert states == set(STATES), "every table state is exercised"


# ---- what is ACCEPTED: the guide's wrapped backup, and extra attributes -------------------


def test_wrapped_get_item_backup_is_accepted_and_extra_attributes_survive(
    ddb: Any, moto_url: str, folders: Folders
) -> None:
    """GIVEN the guide's `aws dynamodb get-item ... > backup.json` ({"Item": {...}}) and a
    live item with extra attributes of every type, WHEN 04 restores it, THEN the count is
    the file's, every live attribute is kept, and the live item was backed up first."""
    ctx = make_ctx(ddb, moto_url, "extras", folders)
    wrapped = {"Item": {**STATES["counter"], "viewCount": {"N": "25"}, "note": {"S": "old"}}}
    path = ctx.item_file(wrapped, "get-item-output.json")

    result = backup.run_action(
        "restore", ctx.target, backup_path=str(path), dry_run=False, confirm=ctx.target.table
    )

    assert itemfile.load_item_file(path).wrapped is True
    assert result["kind"] == "item" and result["restored"] is True
    assert (result["old"], result["new"]) == (10, 25)
    assert "Other attributes in the file (note) are left as they are live" in result["message"]
    live = counter.get_item(ctx.target, ddb=ddb)
    assert live.pop(counter.WRITE_TOKEN)["S"], "the restore's write token (idempotent retries)"
    assert live == {**STATES["extras"], "viewCount": {"N": "25"}}
    saved = itemfile.load_item_file(result["live_backup_path"], target=ctx.target)
    assert saved.boto_item() == STATES["extras"] and saved.count == 10


def test_set_count_keeps_extra_attributes(ddb: Any, moto_url: str, folders: Folders) -> None:
    ctx = make_ctx(ddb, moto_url, "extras", folders)
    result = setcount.set_count(
        ctx.target, 42, reason="bad-input test", dry_run=False, confirm=ctx.target.table, ddb=ddb
    )
    assert result.applied and (result.old, result.new) == (10, 42)
    item = counter.get_item(ctx.target, ddb=ddb)
    assert item.pop(counter.WRITE_TOKEN)["S"], "the set's write token (idempotent retries)"
    assert item == {**STATES["extras"], "viewCount": {"N": "42"}}
    assert set(itemfile.load_item_file(result.backup_path).item) >= set(EXTRAS)
    assert [r["new"] for r in setcount.read_audit()] == [42]


# ---- CREATING: only where the sandbox can produce it ----------------------------------------


def test_table_in_creating_state_is_reported_not_written(
    ddb: Any, moto_url: str, folders: Folders
) -> None:
    import moto

    name = f"bi-{uuid.uuid4().hex[:10]}-VisitorCount"
    created = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "stat", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "stat", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableStatus"]
    described = ddb.describe_table(TableName=name)["Table"]["TableStatus"]
    if "CREATING" not in (created, described):
        pytest.skip(
            f"moto {moto.__version__} never reports CREATING: CreateTable answers {created} and "
            f"DescribeTable {described} at once (moto's Table.describe hard-codes "
            "TableStatus='ACTIVE'), so a CREATING table cannot be produced in the sandbox; "
            "see test_creating_status_check_says_wait for the check itself"
        )
    target = Target(table=name, endpoint=moto_url)
    ctx = Ctx(ddb, target, folders.src, folders.backups, folders.run_dir, [name])
    before = snapshot(ctx)
    report = status.run_status(ctx.target)
    assert "[WARN] table exists and ACTIVE" in str(report) and "wait for ACTIVE" in str(report)
    assert snapshot(ctx) == before


def test_creating_status_check_says_wait(moto_url: str) -> None:
    """The status check on a DescribeTable answer as AWS gives it while a table is created."""
    target = Target(table="bi-creating-VisitorCount", endpoint=moto_url)
    check = status.check_table({"TableName": target.table, "TableStatus": "CREATING"}, None, target)
    assert check.state == status.WARN
    assert check.detail == "table bi-creating-VisitorCount is CREATING"
    assert check.next_step == "wait for ACTIVE, then run the status check again"


# ---- the same refusals as a user sees them: runner summary and exit code -------------------


def run_nb(name: str, params: dict[str, Any], folders: Folders) -> runner.RunOutcome:
    return runner.run_notebook(name, params, folders.reports, html=False)


def assert_failed(outcome: runner.RunOutcome, ename: str, what: str, todo: str) -> None:
    """Exit 1, the failing cell named, the domain error (with its next step) in the summary
    and in result.json."""
    assert outcome.exit_code == runner.EXIT_FAILED, outcome.summary()
    error = outcome.error or ""
    assert error.startswith(f"{ename}: "), error
    assert re.search(what, error, re.S), f"{what!r} not in {error!r}"
    _, _, hint = error.partition(" Next step: ")
    assert hint and re.search(todo, hint), f"no next step matching {todo!r}: {error!r}"
    summary = outcome.summary()
    assert (
        f"error in cell {outcome.failed_cell}: {error}" in summary and "FAILED (exit 1" in summary
    )
    assert json.loads(Path(outcome.result_path).read_text())["error"] == error


def failed_source(outcome: runner.RunOutcome) -> str:
    """The source of the cell the run failed in (from the executed notebook)."""
    nb = json.loads(Path(outcome.notebook_path).read_text())
    cells = [c for c in nb["cells"] if c.get("execution_count") == outcome.failed_cell]
    return "".join(cells[0]["source"]) if cells else ""


@pytest.fixture
def counter_ctx(ddb: Any, moto_url: str, folders: Folders) -> Ctx:
    return make_ctx(ddb, moto_url, "counter", folders)


@pytest.mark.notebook
def test_runbook_run_01_init_bad_table_name(counter_ctx: Ctx, folders: Folders) -> None:
    before = snapshot(counter_ctx)
    outcome = run_nb("01_init", {"table_name": "bad name!", "dry_run": "False"}, folders)
    assert_failed(outcome, "InvalidInputError", r"table_name 'bad name!' is not a valid", FIX)
    assert "nb.start(" in failed_source(outcome), "refused in the setup cell, before any AWS call"
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}


@pytest.mark.parametrize(
    ("name", "params", "what"),
    [
        ("03_set_count", {"new_value": "-5"}, r"new_value must not be negative, got -5"),
        ("03_set_count", {"reason": "reset"}, r"03_set_count needs new_value"),
        ("06_history", {"days": "1000000"}, r"days must be from 1 to 455 .*got 1000000"),
    ],
    ids=["03-negative", "03-missing-new_value", "06-days"],
)
def test_runbook_run_refuses_bad_usage_before_a_kernel(
    name: str, params: dict[str, str], what: str, counter_ctx: Ctx, folders: Folders
) -> None:
    """Refused while checking the parameters: no kernel, no report folder, nothing written
    (run_notebook raises; the CLI turns that into exit 2)."""
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    confirmed = {"table_name": table, "dry_run": "False", "confirm": table}
    if name == "06_history":
        confirmed = {"table_name": table}
    with pytest.raises(InvalidInputError, match=what):
        run_nb(name, {**confirmed, **params}, folders)
    assert not folders.reports.exists(), "nothing ran: no report folder"
    assert snapshot(counter_ctx) == before
    assert files(folders.backups) == {}, "no item backup and no audit line"


@pytest.mark.notebook
@pytest.mark.parametrize(
    ("params", "refused", "command"),
    [
        (
            {"new_value": "0"},
            r"Refusing to lower viewCount in \S+ from 10 \(live\) to 0 \(new_value\): "
            r"10 counted visits would be lost\. Nothing was written\.",
            r"-p new_value 0 -p allow_decrease True -p dry_run False -p confirm {t} ",
        ),
        (
            {"new_value": "20", "confirm": "prod-VisitorCount"},
            r"Refusing to write: confirm must equal the table name '\S+', "
            r"got 'prod-VisitorCount'\. Nothing was written\.",
            r"-p new_value 20 -p dry_run False -p confirm {t} ",
        ),
        (
            {"new_value": "20", "expected_current": "4"},
            r"The count moved: expected 4, live value is 10\. Nothing was written\.",
            r"-p new_value 20 -p expected_current 10 -p dry_run False -p confirm {t} ",
        ),
    ],
    ids=["decrease", "confirm-mismatch", "conflict"],
)
def test_runbook_run_03_refused_write_is_one_line_and_exit_3(
    params: dict[str, str], refused: str, command: str, counter_ctx: Ctx, folders: Folders
) -> None:
    """A refused write is a clean outcome: exit 3, what was refused and the exact command
    that would do it, no failed cell, the table and the backups untouched."""
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    base = {"table_name": table, "reason": "bad-input test", "dry_run": "False", "confirm": table}
    outcome = run_nb("03_set_count", {**base, **params}, folders)
    assert outcome.exit_code == runner.EXIT_PROBLEM, outcome.summary()
    assert outcome.error is None and outcome.failed_cell is None
    summary = outcome.summary()
    assert "error in cell" not in summary and "Traceback" not in summary
    assert re.search(rf"^  refused: {refused}$", summary, re.M), summary
    expected = f"runbook run 03_set_count -p table_name {table} " + command.format(t=table)
    assert outcome.result["command"].startswith(expected)
    assert f"  command: {outcome.result['command']}\n" in summary, "shown whole"
    assert snapshot(counter_ctx) == before
    assert files(folders.backups) == {}, "no item backup and no audit line"


@pytest.mark.notebook
def test_runbook_run_04_unknown_action(counter_ctx: Ctx, folders: Folders) -> None:
    before = snapshot(counter_ctx)
    params = {"table_name": counter_ctx.target.table, "action": "bakup"}
    outcome = run_nb("04_backup_restore", params, folders)
    assert_failed(
        outcome, "InvalidInputError", r"Unknown action 'bakup'\. Valid: backup, restore, list", FIX
    )
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}


@pytest.mark.notebook
def test_runbook_run_04_corrupted_export_confirmed(counter_ctx: Ctx, folders: Folders) -> None:
    damaged = counter_ctx.variant("crc", flip_crc)
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    params = {"table_name": table, "action": "restore", "backup_path": str(damaged)}
    outcome = run_nb("04_backup_restore", {**params, "dry_run": "False", "confirm": table}, folders)
    assert_failed(outcome, "BackupFileError", r"crc\.jsonl\.gz is not an intact gzip file", INTACT)
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}


@pytest.mark.notebook
def test_runbook_run_05_unknown_strategy(counter_ctx: Ctx, folders: Folders) -> None:
    stack = folders.src / "stack"
    stack.mkdir()
    (stack / "main.tf").write_text("# a stack folder: 05 refuses the strategy before terraform\n")
    before = snapshot(counter_ctx)
    table = counter_ctx.target.table
    params = {"table_name": table, "terraform_dir": str(stack), "strategy": "x"}
    outcome = run_nb("05_migrate", {**params, "dry_run": "False", "confirm": table}, folders)
    assert_failed(
        outcome,
        "InvalidInputError",
        r"Unknown strategy 'x'\. Valid: removed, state_rm, ignore_changes",
        FIX,
    )
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}
    assert sorted(p.name for p in stack.iterdir()) == ["main.tf"], "the stack folder untouched"


@pytest.fixture(scope="module")
def status_of_missing_table(
    moto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[runner.RunOutcome, str]]:
    """02_status run once against a table that does not exist."""
    folder = tmp_path_factory.mktemp("bi-status")
    table = f"bi-missing-{uuid.uuid4().hex[:10]}-VisitorCount"
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("RUNBOOK_")]:
            if key not in ("RUNBOOK_STATE_DIR", "RUNBOOK_HOME"):  # module scope: before autouse
                mp.delenv(key)
        mp.setenv("RUNBOOK_BACKUPS", str(folder / "backups"))
        yield runner.run_notebook("02_status", {"table_name": table}, folder, html=False), table


@pytest.mark.notebook
def test_runbook_run_02_status_missing_table(status_of_missing_table, ddb: Any) -> None:
    outcome, table = status_of_missing_table
    assert outcome.exit_code == runner.EXIT_PROBLEM and outcome.error is None
    summary = outcome.summary()
    assert "02_status: PROBLEM FOUND (exit 3" in summary
    assert f"[FAIL] table exists and ACTIVE: table {table} not found" in summary
    checks = {c["name"]: c for c in json.loads(Path(outcome.result_path).read_text())["checks"]}
    assert "terraform apply" in checks["table exists and ACTIVE"]["next_step"]
    assert table_snapshot(ddb, table) == {"missing": True}, "a status check creates nothing"
    assert not Path(outcome.out_dir).parent.joinpath("backups").exists()


@pytest.mark.notebook
def test_runbook_run_02_status_summary_says_what_to_do(status_of_missing_table) -> None:
    outcome, _ = status_of_missing_table
    assert "terraform apply" in outcome.summary()


@pytest.mark.parametrize(
    ("args", "what", "todo"),
    [
        (
            ["03_set_count", "-p", "new_valeu", "5"],
            r"Unknown parameter\(s\) for 03_set_count: new_valeu",
            r"runbook params",
        ),
        (
            ["06_history", "-p", "days", "fourteen"],
            r"Parameter days must be int, got 'fourteen'",
            r"runbook params",
        ),
        (
            ["03_set_count", "-p", "dry_run", "False", "-p", "reason", "x"],
            r"03_set_count needs new_value, the count to set\. Pass -p new_value N",
            r"runbook params 03_set_count",
        ),
        (
            ["03_set_count", "-p", "new_value", "-5"],
            r"new_value must not be negative, got -5\. Nothing ran\.",
            r"-p new_value with a whole number from 0",
        ),
        (
            ["03_set_count", "-p", "new_value", "1" * 41],
            r"new_value has 41 digits; DynamoDB numbers hold at most 38\. Nothing ran\.",
            r"-p new_value with a whole number",
        ),
        (
            ["06_history", "-p", "days", "-5"],
            r"days must be from 1 to 455 \(CloudWatch keeps metric data for 455 days\), got -5",
            r"-p days with a whole number from 1 to 455",
        ),
        (
            ["06_history", "-p", "days", "100000"],
            r"days must be from 1 to 455 .*got 100000\. Nothing ran\.",
            r"-p days with a whole number from 1 to 455",
        ),
    ],
    ids=[
        "unknown-name",
        "wrong-type",
        "03-missing-new_value",
        "03-negative",
        "03-41-digits",
        "06-days-negative",
        "06-days-too-many",
    ],
)
def test_runbook_cli_bad_usage_exits_2_and_runs_nothing(
    args: list[str], what: str, todo: str, counter_ctx: Ctx, folders: Folders
) -> None:
    before = snapshot(counter_ctx)
    argv = [str(RUNBOOK), "run", *args, "-p", "table_name", counter_ctx.target.table]
    proc = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ), cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert re.search(rf"^runbook: {what}.* Next step: .*{todo}", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not folders.reports.exists(), "nothing ran: no report folder"
    assert snapshot(counter_ctx) == before and files(folders.backups) == {}


# ---- the limits the pre-kernel checks use are the modules' own ------------------------------


def test_parameter_limits_match_the_modules_that_enforce_them() -> None:
    from runbook_lib.notebook import paramcheck
    from runbook_lib.steps import history

    assert paramcheck.MAX_COUNT == counter.MAX_COUNT
    assert paramcheck.MAX_HISTORY_DAYS == history.MAX_HISTORY_DAYS
    for notebook in runner.available_notebooks():
        path = runner.notebook_path(notebook)
        declared = set(runner.declared_parameters(path))
        assert paramcheck.declared_names(path) == declared, f"{notebook}: read as papermill does"
        rules = paramcheck.RULES.get(notebook, {})
        assert set(rules) <= declared, f"{notebook}: a rule for a parameter it does not have"
    assert {"03_set_count", "06_history"} <= set(paramcheck.RULES)
