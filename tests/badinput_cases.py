"""The bad-input catalogue (issue 6, section 3): parameters, backup files and table states.

Each `Case` is one thing an operator can get wrong, as data. `tests/aws/test_badinput.py` puts the
counter table in `state`, runs `arrange` (input files, other tables), snapshots every watched
table and the backup folders, runs `act` through the library entry point the notebook calls,
then asserts: the error type, the message the user sees (`what` went wrong, `todo` = what to
do, matched against the error's hint or the report's next step), and byte-for-byte unchanged
tables and folders.

A `gap` is a real shortcoming found by this catalogue: the case states the behaviour we want
and is marked xfail(strict=True) until the owning module is fixed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib.aws import counter
from runbook_lib.errors import (
    BackupFileError,
    ConfirmationError,
    CountConflictError,
    DecreaseRefusedError,
    InvalidInputError,
    ItemMissingError,
    NotebookNotFoundError,
    RunbookError,
    TableMissingError,
    TableSchemaError,
)
from runbook_lib.formats import exportfile, exportread, itemfile
from runbook_lib.formats.countvalue import CountElsewhereError, CountTypeError
from runbook_lib.model import Target
from runbook_lib.notebook import runner
from runbook_lib.resolve import resolve_target
from runbook_lib.steps import backup, history, setcount, status
from runbook_lib.steps.backup import export, itembackup, tablerestore
from runbook_lib.steps.init import init_step

PARAMETER, FILE, STATE = "parameter", "file", "table state"
KEY = {"stat": {"S": "Quantity"}}
# attributes a real item may carry besides key and count: every DynamoDB type once
EXTRAS: dict[str, Any] = {
    "note": {"S": "keep me"},
    "tags": {"SS": ["a", "b"]},
    "blob": {"B": b"\x00\xff"},
    "flag": {"BOOL": False},
    "nested": {"M": {"deep": {"L": [{"N": "1"}, {"NULL": True}]}}},
    "big": {"N": "9" * 38},
}
# the counter item each state starts from (None: no item; "no_table": the table is missing)
STATES: dict[str, Any] = {
    "counter": {**KEY, "viewCount": {"N": "10"}},
    "no_item": None,
    "no_table": None,
    # a string that is no whole number: a corrupt count ("12" would be a site's string count)
    "string_count": {**KEY, "viewCount": {"S": "twelve"}},
    "site_string_count": {**KEY, "viewCount": {"S": "12"}},  # a site that writes str(n)
    "count_elsewhere": {**KEY, "count": {"S": "57"}},  # the count under another name
    "negative_count": {**KEY, "viewCount": {"N": "-4"}},
    "extras": {**KEY, "viewCount": {"N": "10"}, **EXTRAS},
}
CONFIRM = object()  # replaced by the target's table name: a confirmed, real run
REAL = {"dry_run": False, "confirm": CONFIRM}


@dataclass
class Ctx:
    """What a case works with: the target, a folder for input files, other tables."""

    ddb: Any
    target: Target
    src: Path  # input files the case arranges (not a backups folder)
    backups: Path  # RUNBOOK_BACKUPS: a refusal writes nothing here
    run_dir: Path  # RUNBOOK_RUN_DIR: where a notebook's artifacts (CSV) would go
    watched: list[str] = field(default_factory=list)
    arranged: Any = None  # what `arrange` returned (a path, usually)
    arranged_table: Target | None = None  # a second table `arrange` created

    def kw(self, kwargs: dict[str, Any], target: Target | None = None) -> dict[str, Any]:
        table = (target or self.target).table
        return {k: table if v is CONFIRM else v for k, v in kwargs.items()}

    def table(self, key: str = "stat", item: dict[str, Any] | None = None) -> Target:
        """Another table on the same server (keyed `key`), watched like the target; the
        Target returned still names the counter's usual key, as an operator would."""
        name = f"bi-{uuid.uuid4().hex[:10]}-Other"
        self.ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        if item:
            self.ddb.put_item(TableName=name, Item=item)
        self.watched.append(name)
        return Target(table=name, endpoint=self.target.endpoint)  # the counter's usual key

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.src / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def item_file(self, item: dict[str, Any], name: str = "item.json") -> Path:
        return self.write(name, json.dumps(item, indent=2))

    def backup(self) -> Path:
        """A genuine item backup (with its sidecar) of the live counter."""
        return itembackup.backup_item(self.target, dest_dir=self.src / "items", ddb=self.ddb).path

    def export(self) -> export.ExportResult:
        folder = self.src / "exports"
        found = sorted(folder.glob(f"*{exportfile.DATA_SUFFIX}")) if folder.is_dir() else []
        if found:
            return _export_result(found[0])
        return export.export_table(self.target, folder, ddb=self.ddb, progress=False)

    def variant(
        self,
        name: str,
        mutate: Callable[[bytes], bytes] = lambda data: data,
        *,
        rehash: bool = True,
        manifest: bool | str = True,
        **changes: Any,
    ) -> Path:
        """A copy of a genuine export, its bytes mutated. The manifest is the original's
        with data_file renamed and `changes` applied; rehash=True makes its sha256 and size
        match the mutated bytes (so the check behind them is the one reached);
        manifest=False leaves none, a string writes that text instead."""
        original = self.export()
        data = mutate(original.path.read_bytes())
        path = self.write(f"{name}{exportfile.DATA_SUFFIX}", data)
        if manifest is False:
            return path
        meta = json.loads(original.manifest_path.read_text())
        meta["data_file"] = path.name
        if rehash:
            meta.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
        meta.update(changes)
        text = manifest if isinstance(manifest, str) else json.dumps(meta)
        exportfile.manifest_path_for(path).write_text(text)
        return path


def _export_result(path: Path) -> export.ExportResult:
    m = exportread.read_manifest(path)
    return export.ExportResult(
        path, exportfile.manifest_path_for(path), m.table, m.item_count, m.sha256, m.bytes, 1, 0.0
    )


@dataclass(frozen=True)
class Case:
    id: str
    group: str  # PARAMETER | FILE | STATE
    act: Callable[[Ctx], Any]
    what: str  # regex: what went wrong, in the message the user sees
    todo: str = ""  # regex: what to do, in the hint (refusals) or the report (error=None)
    error: type[BaseException] | None = RunbookError  # None: a report, not a refusal
    state: str = "counter"
    arrange: Callable[[Ctx], Any] | None = None
    gap: str = ""  # a known gap: xfail(strict=True, reason=gap) until fixed
    writes_backup: bool = False  # True: a live-item backup is expected (a write went ahead)


# ---- small builders: each returns an act(ctx) calling the notebook's entry point ---------


def _init(initial: Any = 0, **kw: Any) -> Callable[[Ctx], Any]:
    return lambda c: init_step(c.target, initial, ddb=c.ddb, **c.kw(kw))


def _set(new: Any, **kw: Any) -> Callable[[Ctx], Any]:
    def act(c: Ctx) -> Any:
        return setcount.set_count(c.target, new, ddb=c.ddb, **c.kw(kw))

    return act


def _action(action: str, **kw: Any) -> Callable[[Ctx], Any]:
    """backup.run, as 04_backup_restore calls it; a callable value gets the ctx."""

    def act(c: Ctx) -> Any:
        params = {k: v(c) if callable(v) else v for k, v in c.kw(kw).items()}
        return backup.run(c.target, action=action, progress=False, **params)

    return act


def _arranged(c: Ctx) -> Any:
    return c.arranged


def _restore_item(target: Callable[[Ctx], Target] | None = None, **kw: Any):
    def act(c: Ctx) -> Any:
        dest = target(c) if target else c.target
        return itembackup.restore_item(dest, c.arranged, ddb=c.ddb, **c.kw(kw, dest))

    return act


def _restore_table(target: Callable[[Ctx], Target] | None = None, **kw: Any):
    def act(c: Ctx) -> Any:
        dest = target(c) if target else c.target
        return tablerestore.restore_table(c.arranged, dest, progress=False, **c.kw(kw, dest))

    return act


def _status(**kw: Any) -> Callable[[Ctx], Any]:
    return lambda c: status.run(c.target, **kw)


def _history(days: Any, **kw: Any) -> Callable[[Ctx], Any]:
    return lambda c: history.run(c.target, days=days, **kw)


def _csv(name: str) -> Callable[[Ctx], Any]:
    """06_history's read, its CSV next to the report (the path is made before the read)."""

    def act(c: Ctx) -> Any:
        from runbook_lib.notebook.results import artifact_path

        return history.run(c.target, days=1, csv_path=artifact_path(name))

    return act


def _prepare(notebook: str, **params: Any) -> Callable[[Ctx], Any]:
    return lambda c: runner.prepare_parameters(runner.notebook_path(notebook), params)


def _run(notebook: str, **params: str) -> Callable[[Ctx], Any]:
    """`runbook run NOTEBOOK -p ...` on the counter's table, as CLI strings: refused before
    a kernel starts (bad usage, exit 2), so no report lands in the watched input folder."""

    def act(c: Ctx) -> Any:
        values = {"table_name": c.target.table, **c.kw(params)}
        return runner.run_notebook(notebook, values, c.src / "reports", html=False)

    return act


def _migrate(terraform_dir: str = "terraform", **kw: Any) -> Callable[[Ctx], Any]:
    def act(c: Ctx) -> Any:
        from runbook_lib.steps import migrate  # 05_migrate: landed in this tree, owned elsewhere

        return migrate.run(c.target, terraform_dir=terraform_dir, **c.kw(kw))

    return act


def _resolve_dir(path: str) -> Callable[[Ctx], Any]:
    def act(c: Ctx) -> Any:
        from runbook_lib.tf.stackread import resolve_dir

        return resolve_dir(path)

    return act


def _item(count: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**KEY, "viewCount": count, **extra}


def _gz_lines(*items: dict[str, Any]) -> Callable[[bytes], bytes]:
    text = "".join(json.dumps(i, separators=(",", ":")) + "\n" for i in items)
    return lambda _data: gzip.compress(text.encode(), mtime=0)


def flip_crc(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[-8] ^= 0xFF  # the gzip trailer's CRC32 of the uncompressed data
    return bytes(damaged)


def _other_table_then(c: Ctx, value: Any, key: str = "stat", count: str = "10") -> Any:
    """Create a second, watched table holding a counter item keyed `key`; return value."""
    c.arranged_table = c.table(key=key, item={key: {"S": "Quantity"}, "viewCount": {"N": count}})
    return value


def _edited_backup(c: Ctx) -> Path:
    """A genuine backup whose item file was edited afterwards (its sidecar's sha256 is stale)."""
    path = c.backup()
    path.write_text(path.read_text().replace('"10"', '"11"'))
    return path


FIX = "fix the parameter"
INTACT = r"pick an intact backup file"
WHOLE = r"must be a whole number"

# ---- the catalogue -----------------------------------------------------------------------

CASES: list[Case] = [
    # ---------------------------------------------------------------- 01_init parameters
    Case(
        "init/initial_value=-1",
        PARAMETER,
        _init(-1, **REAL),
        r"initial_value must not be negative, got -1",
        FIX,
        InvalidInputError,
    ),
    Case(
        "init/initial_value=True",
        PARAMETER,
        _init(True, **REAL),
        rf"initial_value {WHOLE}, got True",
        FIX,
        InvalidInputError,
    ),
    Case(
        "init/initial_value=39 digits",
        PARAMETER,
        _init(10**38, **REAL),
        r"initial_value has 39 digits; DynamoDB numbers hold at most 38",
        FIX,
        InvalidInputError,
        state="no_item",
    ),
    Case(
        "init/dry_run='False' (a string)",
        PARAMETER,
        _init(0, dry_run="False", confirm=CONFIRM),
        r"dry_run must be True or False, got 'False'",
        FIX,
        InvalidInputError,
        state="no_item",
    ),
    Case(
        "init/confirm=another table",
        PARAMETER,
        _init(0, dry_run=False, confirm="prod-VisitorCount"),
        r"confirm must equal the table name .*got 'prod-VisitorCount'.*Nothing was written",
        r"confirm bi-",
        ConfirmationError,
        state="no_item",
    ),
    # ---------------------------------------------------------------- target (every notebook)
    Case(
        "target/table_name='bad name!'",
        PARAMETER,
        lambda c: resolve_target("bad name!"),
        r"table_name 'bad name!' is not a valid DynamoDB table name \(3-255 characters",
        FIX,
        InvalidInputError,
    ),
    Case(
        "target/table_name=12345 (an int)",
        PARAMETER,
        lambda c: resolve_target(12345),
        r"table_name 12345 is not a valid DynamoDB table name",
        FIX,
        InvalidInputError,
    ),
    Case(
        "target/count_attribute=key_name",
        PARAMETER,
        lambda c: resolve_target(c.target.table, key_name="stat", count_attribute="stat"),
        r"count_attribute must differ from (key_name|the key's attributes)",
        FIX,
        InvalidInputError,
    ),
    Case(
        "target/key_name not the table's key",
        PARAMETER,
        lambda c: setcount.set_count(
            Target(c.target.table, key_name="id", endpoint=c.target.endpoint), 5, ddb=c.ddb
        ),
        r"key schema does not match the target's key",
        r"check table_name and key_name",
        TableSchemaError,
    ),
    # ---------------------------------------------------------------- 02_status parameters
    Case(
        "status/drop_window_hours=-5",
        PARAMETER,
        _status(drop_window_h=-5),
        r"drop_window",
        FIX,
        InvalidInputError,
    ),
    Case(
        "status/drop_window_hours=10**12",
        PARAMETER,
        _status(drop_window_h=10**12),
        r"drop_window",
        FIX,
        InvalidInputError,
    ),
    Case(
        "status/max_backup_age_hours=-1",
        PARAMETER,
        _status(max_backup_age_h=-1),
        r"max_backup_age",
        FIX,
        InvalidInputError,
    ),
    Case(
        "status/terraform_dir does not exist",
        PARAMETER,
        _status(terraform_dir="/nonexistent/stack"),
        r"/nonexistent/stack.*(not a folder|does not exist)",
        r"terraform_dir",
        None,
    ),
    # ---------------------------------------------------------------- 03_set_count parameters
    Case(
        "set/new_value=-3",
        PARAMETER,
        _set(-3, **REAL),
        r"new_value must not be negative, got -3",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/new_value=1.5",
        PARAMETER,
        _set(1.5, **REAL),
        rf"new_value {WHOLE}, got 1\.5",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/new_value='abc'",
        PARAMETER,
        _set("abc", **REAL),
        rf"new_value {WHOLE}, got 'abc'",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/new_value=False",
        PARAMETER,
        _set(False, **REAL),
        rf"new_value {WHOLE}, got False",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/new_value=39 digits",
        PARAMETER,
        _set(10**38, **REAL),
        r"new_value has 39 digits; DynamoDB numbers hold at most 38",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/expected_current=4 (live is 10)",
        PARAMETER,
        _set(7, expected_current=4, **REAL),
        r"expected 4, live value is 10\. Nothing was written",
        r"retry with expected_current set to it",
        CountConflictError,
    ),
    Case(
        "set/expected_current='ten'",
        PARAMETER,
        _set(7, expected_current="ten", **REAL),
        rf"expected_current {WHOLE}, got 'ten'",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/reason of 600 characters",
        PARAMETER,
        _set(7, reason="x" * 600, **REAL),
        r"reason has 600 characters; keep it under 500",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/reason holding an access key",
        PARAMETER,
        _set(7, reason="key AKIAABCDEFGHIJKLMNOP", **REAL),
        r"reason looks like it holds a credential",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/reason=5 (an int)",
        PARAMETER,
        _set(7, reason=5, **REAL),
        r"reason must be text, got int",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/new_value=None (not given)",
        PARAMETER,
        _set(None, **REAL),
        r"new_value is required: the count to set\. Nothing was written",
        r"-p new_value 0 -p allow_decrease True",
        InvalidInputError,
    ),
    Case(
        "set/new_value=0 below the live 10",
        PARAMETER,
        _set(0, reason="reset", **REAL),
        r"Refusing to lower viewCount in \S+ from 10 \(live\) to 0 \(new_value\): 10 counted "
        r"visits would be lost\. Nothing was written",
        r"allow_decrease=True",
        DecreaseRefusedError,
    ),
    Case(
        "set/new_value=9 below the live 10, expected_current=10",
        PARAMETER,
        _set(9, expected_current=10, **REAL),
        r"from 10 \(live\) to 9 \(new_value\): 1 counted visit would be lost",
        r"allow_decrease=True",
        DecreaseRefusedError,
    ),
    Case(
        "set/allow_decrease='True' (a string)",
        PARAMETER,
        _set(0, allow_decrease="True", **REAL),
        r"allow_decrease must be True or False, got 'True'",
        FIX,
        InvalidInputError,
    ),
    Case(
        "set/dry_run=False without confirm",
        PARAMETER,
        _set(7, dry_run=False),
        r"confirm must equal the table name .*got nothing",
        r"-p dry_run False -p confirm bi-",
        ConfirmationError,
    ),
    # ---------------------------------------------------------------- 04_backup_restore parameters
    Case(
        "04/action='bakup'",
        PARAMETER,
        _action("bakup"),
        r"Unknown action 'bakup'\. Valid: backup, restore, list",
        FIX,
        InvalidInputError,
    ),
    Case(
        "04/backup kind='x'",
        PARAMETER,
        _action("backup", kind="x"),
        r"Unknown backup kind 'x'\. Valid: item, table, native, pitr",
        FIX,
        InvalidInputError,
    ),
    Case(
        "04/restore kind='x'",
        PARAMETER,
        _action("restore", kind="x", **REAL),
        r"Unknown restore kind 'x'\. Valid: item, table, native, pitr, copy_back",
        FIX,
        InvalidInputError,
    ),
    Case(
        "04/list with a kind",
        PARAMETER,
        _action("list", kind="item"),
        r"kind applies to backup and restore, not to list",
        FIX,
        InvalidInputError,
    ),
    Case(
        "04/restore from nothing",
        PARAMETER,
        _action("restore", **REAL),
        r"Nothing to restore from: give backup_path",
        r"action=list",
        InvalidInputError,
    ),
    Case(
        "04/read_back='most'",
        PARAMETER,
        _action("restore", kind="table", backup_path=_arranged, read_back="most", **REAL),
        r"read_back must be one of sample, all, got 'most'",
        FIX,
        InvalidInputError,
        arrange=lambda c: c.export().path,
    ),
    Case(
        "04/backup_arn='arn:bad'",
        PARAMETER,
        _action("restore", backup_arn="arn:bad", new_table_name="bi-restored", **REAL),
        r"'arn:bad' is not a DynamoDB backup ARN",
        r"copy an ARN from 04_backup_restore action=list",
        InvalidInputError,
    ),
    Case(
        "04/restore_time='yesterday'",
        PARAMETER,
        _action(
            "restore", kind="pitr", new_table_name="bi-restored", restore_time="yesterday", **REAL
        ),
        r"restore_time 'yesterday' is not an ISO 8601 time",
        FIX,
        InvalidInputError,
    ),
    Case(
        "04/copy_back without new_table_name",
        PARAMETER,
        _action("restore", kind="copy_back", **REAL),
        r"'' is not a valid DynamoDB table name",
        FIX,
        InvalidInputError,
    ),
    Case(
        "04/allow_decrease='False' (a string)",
        PARAMETER,
        _action("restore", backup_path=_arranged, allow_decrease="False", **REAL),
        r"allow_decrease must be True or False",
        FIX,
        InvalidInputError,
        arrange=lambda c: c.item_file(_item({"N": "1"})),
    ),
    # ---------------------------------------------------------------- 05_migrate parameters
    Case(
        "05/strategy='x'",
        PARAMETER,
        _migrate(strategy="x", **REAL),
        r"Unknown strategy 'x'\. Valid: removed, state_rm, ignore_changes",
        FIX,
        InvalidInputError,
    ),
    Case(
        "05/verify_applies=-1",
        PARAMETER,
        _migrate(verify_applies=-1, **REAL),
        r"verify_applies must be a whole number >= 0, got -1",
        FIX,
        InvalidInputError,
    ),
    Case(
        "05/verify_applies=True",
        PARAMETER,
        _migrate(verify_applies=True, **REAL),
        r"verify_applies must be a whole number >= 0, got True",
        FIX,
        InvalidInputError,
    ),
    Case(
        "05/terraform_dir does not exist",
        PARAMETER,
        _resolve_dir("/nonexistent/stack"),
        r"terraform_dir '/nonexistent/stack' is not a folder",
        r"-p terraform_dir PATH",
        InvalidInputError,
    ),
    # ---------------------------------------------------------------- 06_history parameters
    Case(
        "06/days=-1",
        PARAMETER,
        _history(-1),
        r"days must be a positive number, got -1",
        FIX,
        InvalidInputError,
    ),
    Case(
        "06/days=True",
        PARAMETER,
        _history(True),
        r"days must be a positive number, got True",
        FIX,
        InvalidInputError,
    ),
    Case(
        "06/days='14' (a string)",
        PARAMETER,
        _history("14"),
        r"days must be a positive number, got '14'",
        FIX,
        InvalidInputError,
    ),
    Case(
        "06/days=1000 (past retention)",
        PARAMETER,
        _history(1000),
        r"starts 1000\.0 days ago: CloudWatch keeps metric data for 455 days",
        r"fix the parameter",
        InvalidInputError,
    ),
    Case(
        "06/days=1000000",
        PARAMETER,
        _history(10**6),
        r"455",
        FIX,
        InvalidInputError,
    ),
    Case(
        "06/days=inf",
        PARAMETER,
        _history(float("inf")),
        r"days must be",
        FIX,
        InvalidInputError,
    ),
    Case(
        "06/period=7",
        PARAMETER,
        _history(1, period=7),
        r"period 7 is not allowed .*use a multiple of 60 seconds",
        FIX,
        InvalidInputError,
    ),
    Case(
        "06/period=-60",
        PARAMETER,
        _history(1, period=-60),
        r"period must be a positive whole number of seconds, got -60",
        FIX,
        InvalidInputError,
    ),
    Case(
        "06/csv_name=''",
        PARAMETER,
        _csv(""),
        r"csv_name|file name",
        FIX,
        InvalidInputError,
    ),
    # ---------------------------------------------------------------- runner (every notebook)
    Case(
        "runner/unknown parameter new_valeu",
        PARAMETER,
        _prepare("03_set_count", new_valeu="5"),
        r"Unknown parameter\(s\) for 03_set_count: new_valeu\. Valid: .*new_value",
        r"runbook params 03_set_count",
        InvalidInputError,
    ),
    Case(
        "runner/new_value='five'",
        PARAMETER,
        _prepare("03_set_count", new_value="five"),
        r"new_value must be a whole number, got 'five'\. Nothing ran",
        r"-p new_value 100; `runbook params 03_set_count`",
        InvalidInputError,
    ),
    Case(
        "runner/max_backup_age_hours='two days'",
        PARAMETER,
        _prepare("02_status", max_backup_age_hours="two days"),
        r"max_backup_age_hours must be a number, got 'two days'\. Nothing ran",
        r"-p max_backup_age_hours 1\.5",
        InvalidInputError,
    ),
    Case(
        "runner/dry_run='maybe'",
        PARAMETER,
        _prepare("04_backup_restore", dry_run="maybe"),
        r"dry_run must be True or False, got 'maybe'\. Nothing ran",
        r"pass True or False, e\.g\. -p dry_run True",
        InvalidInputError,
    ),
    Case(
        "runner/expected_current='soon'",
        PARAMETER,
        _prepare("03_set_count", expected_current="soon"),
        r"expected_current must be a whole number, got 'soon'\. Nothing ran",
        r"-p expected_current 100",
        InvalidInputError,
    ),
    Case(
        "runner/parameter named aws_secret",
        PARAMETER,
        _prepare("02_status", aws_secret="x"),
        r"Parameter 'aws_secret' looks like a secret",
        r"AWS_PROFILE",
        InvalidInputError,
    ),
    Case(
        "runner/value holding an access key",
        PARAMETER,
        _prepare("03_set_count", reason="AKIAABCDEFGHIJKLMNOP"),
        r"value of parameter 'reason' looks like a credential",
        r"AWS_PROFILE",
        InvalidInputError,
    ),
    # bad usage refused before a kernel starts: `runbook run` exits 2, no report folder
    Case(
        "runner/03 without new_value",
        PARAMETER,
        _run("03_set_count", reason="x", dry_run="False", confirm=CONFIRM),
        r"03_set_count needs new_value, the count to set\. Pass -p new_value N .*"
        r"a reset to 0 is -p new_value 0 -p allow_decrease True\. Nothing ran",
        r"runbook params 03_set_count",
        InvalidInputError,
    ),
    Case(
        "runner/new_value='-5'",
        PARAMETER,
        _run("03_set_count", new_value="-5", dry_run="False", confirm=CONFIRM),
        r"new_value must not be negative, got -5\. Nothing ran",
        r"-p new_value with a whole number from 0 to 10\^38 - 1",
        InvalidInputError,
    ),
    Case(
        "runner/new_value of 41 digits",
        PARAMETER,
        _run("03_set_count", new_value="9" * 41, dry_run="False", confirm=CONFIRM),
        r"new_value has 41 digits; DynamoDB numbers hold at most 38\. Nothing ran",
        r"-p new_value with a whole number",
        InvalidInputError,
    ),
    Case(
        "runner/expected_current='-1'",
        PARAMETER,
        _run("03_set_count", new_value="5", expected_current="-1"),
        r"expected_current must not be negative, got -1\. Nothing ran",
        r"-p expected_current with a whole number",
        InvalidInputError,
    ),
    Case(
        "runner/days='-5'",
        PARAMETER,
        _run("06_history", days="-5"),
        r"days must be from 1 to 455 \(CloudWatch keeps metric data for 455 days\), got -5",
        r"-p days with a whole number from 1 to 455",
        InvalidInputError,
    ),
    Case(
        "runner/days='100000'",
        PARAMETER,
        _run("06_history", days="100000"),
        r"days must be from 1 to 455 .*got 100000\. Nothing ran",
        r"-p days with a whole number from 1 to 455",
        InvalidInputError,
    ),
    Case(
        "runner/days='0'",
        PARAMETER,
        _run("06_history", days="0"),
        r"days must be from 1 to 455 .*got 0\. Nothing ran",
        r"-p days",
        InvalidInputError,
    ),
    Case(
        "runner/unknown notebook 07_nope",
        PARAMETER,
        lambda c: runner.notebook_path("07_nope"),
        r"No notebook named '07_nope'\. Available: .*02_status",
        r"runbook list",
        NotebookNotFoundError,
    ),
    # ---------------------------------------------------------------- item backup files
    Case(
        "item file/empty",
        FILE,
        _restore_item(**REAL),
        r"the file is empty",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.write("empty.json", b""),
    ),
    Case(
        "item file/not JSON",
        FILE,
        _restore_item(**REAL),
        r"the file is not valid JSON: Expecting value at line 1",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.write("text.json", "viewCount=12\n"),
    ),
    Case(
        "item file/truncated",
        FILE,
        _restore_item(**REAL),
        r"the file is not valid JSON \(truncated\?\)",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.write("cut.json", c.backup().read_bytes()[:40]),
    ),
    Case(
        "item file/not UTF-8",
        FILE,
        _restore_item(**REAL),
        r"not UTF-8 text \(byte 0\)",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.write("bin.json", b"\xff\xfe\x00\x01"),
    ),
    Case(
        "item file/a JSON list",
        FILE,
        _restore_item(**REAL),
        r"must be a JSON object of attributes, got list",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.write("list.json", "[1, 2]"),
    ),
    Case(
        "item file/a directory",
        FILE,
        _restore_item(**REAL),
        r"this is a folder, not a backup file",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.src,
    ),
    Case(
        "item file/missing path",
        FILE,
        _restore_item(**REAL),
        r"no such file",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.src / "nope.json",
    ),
    Case(
        "item file/count of 39 digits",
        FILE,
        _restore_item(**REAL),
        r"viewCount\.N: 1{20}… has 39 significant digits; DynamoDB numbers hold at most 38",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.item_file(_item({"N": "1" * 39})),
    ),
    Case(
        "item file/other attribute of 39 digits",
        FILE,
        _restore_item(**REAL),
        r"attribute big\.N: .* has 39 significant digits",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.item_file(_item({"N": "20"}, big={"N": "1" * 39})),
    ),
    Case(
        "item file/N as a JSON number",
        FILE,
        _restore_item(**REAL),
        r"viewCount\.N: a number must be written as a string",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.item_file(_item({"N": 20})),
    ),
    Case(
        "item file/count negative",
        FILE,
        _restore_item(**REAL),
        r"count is unusable: viewCount = -5 is negative",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.item_file(_item({"N": "-5"})),
    ),
    Case(
        "item file/count a string",
        FILE,
        _restore_item(**REAL),
        r"count is unusable: viewCount is stored as type S \('twenty'\)",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.item_file(_item({"S": "twenty"})),
    ),
    Case(
        "item file/string count over a number",
        FILE,
        _restore_item(**REAL),
        r'holds viewCount as S "20", the live item as N "10": restoring it would change',
        r"restore from a copy of the item as it is stored now",
        CountTypeError,
        arrange=lambda c: c.item_file(_item({"S": "20"})),
    ),
    Case(
        "item file/another item's key",
        FILE,
        _restore_item(**REAL),
        r"the file is for item stat='Other', not the target's stat='Quantity'",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.item_file({"stat": {"S": "Other"}, "viewCount": {"N": "20"}}),
    ),
    Case(
        "item file/wrong key schema (id)",
        FILE,
        _restore_item(**REAL),
        r"the key attribute 'stat' is missing; the item has \['id', 'viewCount'\]",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.item_file({"id": {"S": "Quantity"}, "viewCount": {"N": "20"}}),
    ),
    Case(
        "item file/the sidecar instead",
        FILE,
        _restore_item(**REAL),
        r"this is a sidecar \(metadata\); pass the item file .*\.json instead",
        INTACT,
        BackupFileError,
        arrange=lambda c: itemfile.meta_path_for(c.backup()),
    ),
    Case(
        "item file/edited after backup (sha256)",
        FILE,
        _restore_item(**REAL),
        r"sha256 mismatch: the sidecar .* records .*the file changed or is damaged",
        INTACT,
        BackupFileError,
        arrange=_edited_backup,
    ),
    Case(
        "item file/taken from another table",
        FILE,
        _restore_item(lambda c: c.arranged_table, **REAL),
        r"the file was taken from table 'bi-.*', not the target 'bi-.*-Other'",
        r"intact backup file",
        BackupFileError,
        arrange=lambda c: _other_table_then(c, c.backup()),
    ),
    Case(
        "item file/lower count than live",
        FILE,
        _restore_item(**REAL),
        r"Refusing to lower viewCount in \S+ from 10 \(live\) to 1 \(backup item\.json\)",
        r"allow_decrease=True",
        DecreaseRefusedError,
        arrange=lambda c: c.item_file(_item({"N": "1"})),
    ),
    Case(
        "item file/into a table keyed 'id'",
        FILE,
        _restore_item(lambda c: c.arranged_table, allow_other_table=True, **REAL),
        r"key schema does not match the target's key",
        r"check table_name and key_name",
        TableSchemaError,
        arrange=lambda c: _other_table_then(c, c.backup(), key="id"),
    ),
    # ---------------------------------------------------------------- table exports
    Case(
        "export/truncated .jsonl.gz",
        FILE,
        _restore_table(**REAL),
        r"does not match its manifest: sha256 .*First problem found: .* is truncated",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("cut", lambda d: d[: len(d) // 2], rehash=False),
    ),
    Case(
        "export/gzip-corrupted (CRC)",
        FILE,
        _restore_table(**REAL),
        r"is not an intact gzip file .*CRC check failed",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("crc", flip_crc),
    ),
    Case(
        "export/not gzip at all",
        FILE,
        _restore_table(**REAL),
        r"is not an intact gzip file .*Not a gzipped file",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("plain", lambda d: b'{"stat": {"S": "Quantity"}}\n'),
    ),
    Case(
        "export/empty file",
        FILE,
        _restore_table(**REAL),
        r"is empty \(0 bytes\); the manifest says \d+",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("empty", lambda d: b"", rehash=False),
    ),
    Case(
        "export/no manifest",
        FILE,
        _restore_table(**REAL),
        r"No manifest nomanifest\.manifest\.json .*the export did not finish",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("nomanifest", manifest=False),
    ),
    Case(
        "export/manifest not JSON",
        FILE,
        _restore_table(**REAL),
        r"Manifest .*badjson\.manifest\.json is not valid JSON",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("badjson", manifest="{not json"),
    ),
    Case(
        "export/manifest item_count mismatch",
        FILE,
        _restore_table(**REAL),
        r"holds 1 items but its manifest says 5",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("count", item_count=5),
    ),
    Case(
        "export/manifest of another file",
        FILE,
        _restore_table(**REAL),
        r"describes 'other\.jsonl\.gz', not 'renamed\.jsonl\.gz'",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("renamed", data_file="other.jsonl.gz"),
    ),
    Case(
        "export/manifest digest mismatch",
        FILE,
        _restore_table(**REAL),
        r"the items' digest does not match the manifest's content_digest",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("digest", content_digest="0" * 64),
    ),
    Case(
        "export/number of 39 digits",
        FILE,
        _restore_table(**REAL),
        r"line 1: attribute viewCount\.N: .* has 39 significant digits",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("n39", _gz_lines(_item({"N": "1" * 39}))),
    ),
    Case(
        "export/line without the key",
        FILE,
        _restore_table(**REAL),
        r"line 1: key attribute 'stat' of type S is missing",
        INTACT,
        BackupFileError,
        arrange=lambda c: c.variant("nokey", _gz_lines({"id": {"S": "x"}})),
    ),
    Case(
        "export/into a table keyed 'id'",
        FILE,
        _restore_table(lambda c: c.arranged_table, **REAL),
        r"has key schema \[id HASH S\] but the export of \S+ has \[stat HASH S\]\. "
        r"Nothing was written",
        r"same key schema",
        TableSchemaError,
        arrange=lambda c: _other_table_then(c, c.export().path, key="id"),
    ),
    Case(
        "export/an item file as kind=table",
        FILE,
        _action("restore", kind="table", backup_path=_arranged, **REAL),
        r"is not a table export: expected a \.jsonl\.gz file",
        r"intact backup file",
        BackupFileError,
        arrange=lambda c: c.backup(),
    ),
    Case(
        "export/of another table",
        FILE,
        _restore_table(lambda c: c.arranged_table),
        r"export of table 'bi-|taken from table",
        r"allow_other_table|intact backup",
        BackupFileError,
        arrange=lambda c: _other_table_then(c, c.export().path, count="3"),
    ),
    # ---------------------------------------------------------------- table states
    Case(
        "no table/init",
        STATE,
        _init(0),
        r"Table not found \(table bi-missing-\S+\) during GetItem",
        r"run terraform apply, or runbook sandbox up",
        TableMissingError,
        state="no_table",
    ),
    Case(
        "no table/set",
        STATE,
        _set(5, **REAL),
        r"Table not found .* during GetItem",
        r"terraform apply",
        TableMissingError,
        state="no_table",
    ),
    Case(
        "no table/item backup",
        STATE,
        _action("backup", kind="item"),
        r"Table not found .* during GetItem",
        r"terraform apply",
        TableMissingError,
        state="no_table",
    ),
    Case(
        "no table/table export",
        STATE,
        _action("backup", kind="table"),
        r"Table not found .* during DescribeTable",
        r"terraform apply",
        TableMissingError,
        state="no_table",
    ),
    Case(
        "no table/item restore",
        STATE,
        _restore_item(**REAL),
        r"Table not found .* during GetItem",
        r"terraform apply",
        TableMissingError,
        state="no_table",
        arrange=lambda c: c.item_file(_item({"N": "20"})),
    ),
    Case(
        "no table/status",
        STATE,
        _status(),
        r"\[FAIL\] table exists and ACTIVE\s+table bi-missing-\S+ not found",
        r"-> run terraform apply, or runbook sandbox up",
        None,
        state="no_table",
    ),
    Case(
        "no item/set",
        STATE,
        _set(5, **REAL),
        r"The item stat=Quantity does not exist in \S+; 03_set_count only changes an existing item",
        r"run 01_init",
        ItemMissingError,
        state="no_item",
    ),
    Case(
        "no item/item backup",
        STATE,
        _action("backup", kind="item"),
        r"Nothing to back up: the item stat=Quantity does not exist",
        r"run 01_init",
        ItemMissingError,
        state="no_item",
    ),
    Case(
        "no item/status",
        STATE,
        _status(),
        r"\[FAIL\] counter item present\s+no item stat=Quantity",
        r"-> run 01_init",
        None,
        state="no_item",
    ),
    Case(
        "string count/init dry run",
        STATE,
        _init(0),
        r"viewCount is stored as type S \('twelve'\), a string that is not a whole number",
        r"set a valid count with 03_set_count",
        counter.CountValueError,
        state="string_count",
    ),
    Case(
        "string count/item restore",
        STATE,
        _restore_item(**REAL),
        r"viewCount is stored as type S \('twelve'\), a string that is not a whole number",
        r"03_set_count",
        counter.CountValueError,
        state="string_count",
        arrange=lambda c: c.item_file(_item({"N": "20"})),
    ),
    Case(
        "string count/status",
        STATE,
        _status(),
        r"\[FAIL\] count is a non-negative integer\s+viewCount is stored as type S",
        r"-> set a valid count with 03_set_count",
        None,
        state="string_count",
    ),
    Case(
        "string count/set with expected_current",
        STATE,
        _set(5, expected_current=12, count_type="S", **REAL),
        r"type S|\{\"S\": \"twelve\"\}|not a number",
        r"03_set_count|without expected_current",
        RunbookError,
        state="string_count",
    ),
    Case(
        "string count/a number over a site's string count",
        STATE,
        _set(20, **REAL),
        r'holds viewCount as a string \(S "12"\), as a site whose code writes str\(n\)',
        r"pass -p count_type S",
        CountTypeError,
        state="site_string_count",
    ),
    Case(
        "string count/count_type N over a site's string count",
        STATE,
        _set(20, count_type="N", **REAL),
        r"Writing 20 as a number \(count_type N\) would change its type",
        r"pass -p count_type S",
        CountTypeError,
        state="site_string_count",
    ),
    Case(
        "count elsewhere/set",
        STATE,
        _set(60, **REAL),
        r"holds its count as 'count' \(S \"57\"\), not 'viewCount'; a 'viewCount' beside",
        r"pass -p count_attribute count",
        CountElsewhereError,
        state="count_elsewhere",
    ),
    Case(
        "count elsewhere/confirmed init",
        STATE,
        _init(0, **REAL),
        r"holds its count as 'count' \(S \"57\"\), not 'viewCount'",
        r"pass -p count_attribute count",
        CountElsewhereError,
        state="count_elsewhere",
    ),
    Case(
        "count elsewhere/status",
        STATE,
        _status(),
        r"\[FAIL\] count is a non-negative integer\s+\S+'s item stat=Quantity holds its count "
        r"as 'count' \(S \"57\"\), not 'viewCount'",
        r"-> pass -p count_attribute count",
        None,
        state="count_elsewhere",
    ),
    Case(
        "string count/confirmed init",
        STATE,
        _init(0, **REAL),
        r"not a number|type S|not a whole number",
        r"03_set_count",
        None,
        state="string_count",
    ),
    Case(
        "negative count/init dry run",
        STATE,
        _init(0),
        r"viewCount = -4 is negative",
        r"03_set_count",
        counter.CountValueError,
        state="negative_count",
    ),
    Case(
        "negative count/item restore",
        STATE,
        _restore_item(**REAL),
        r"viewCount = -4 is negative",
        r"03_set_count",
        counter.CountValueError,
        state="negative_count",
        arrange=lambda c: c.item_file(_item({"N": "20"})),
    ),
    Case(
        "negative count/status",
        STATE,
        _status(),
        r"\[FAIL\] count is a non-negative integer\s+viewCount = -4 is negative",
        r"-> set a valid count",
        None,
        state="negative_count",
    ),
    Case(
        "negative count/expected_current=4",
        STATE,
        _set(5, expected_current=4, **REAL),
        r"expected 4, live value is -4\. Nothing was written",
        r"expected_current",
        CountConflictError,
        state="negative_count",
    ),
    Case(
        "extras/confirmed init is a no-op",
        STATE,
        _init(0, **REAL),
        r"already exists with viewCount = 10; left untouched \(no-op\)",
        "",
        None,
        state="extras",
    ),
    Case(
        "extras/lower item restore refused",
        STATE,
        _restore_item(**REAL),
        r"Refusing to lower viewCount .* from 10 \(live\) to 3",
        r"allow_decrease=True",
        DecreaseRefusedError,
        state="extras",
        arrange=lambda c: c.item_file(_item({"N": "3"}, note={"S": "old"})),
    ),
    Case(
        "extras/status healthy",
        STATE,
        _status(),
        r"\[OK  \] count is a non-negative integer\s+viewCount = 10",
        "",
        None,
        state="extras",
    ),
    Case(
        "extras/export restored over itself",
        STATE,
        _restore_table(**REAL),
        r"restored=True.*verified=True",
        "",
        None,
        state="extras",
        arrange=lambda c: c.export().path,
        writes_backup=True,
    ),
]
