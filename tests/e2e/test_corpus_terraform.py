"""05_migrate on the corpus of real-world stack shapes (tests/fixtures/stacks/), end to end.

For every stack, black-box through the CLI, in the README's sandbox shell:

GIVEN a copy of the stack applied to the session's moto server and 5 atomic visits (the
Lambda's `ADD`) on its counter item, and a shell whose RUNBOOK_* point at ANOTHER table
(`eval "$(runbook sandbox env)"` exports the sandbox's: issue 9's first bug),
WHEN `runbook run 05_migrate -p terraform_dir COPY -p dry_run False -p confirm TABLE` runs,
THEN it exits 0 and says migrated (never "Already safe"), the state holds no
aws_dynamodb_table_item (child modules included), the other table is untouched, and after 2
more applies the count is the configured one plus the 5 visits.
A stack pinned to a Terraform this machine does not have is refused, naming the pin, with
nothing written.

Terraform runs cost seconds each, so each stack's whole story (apply, visits, migrate,
show, 2 applies) runs in one module fixture, three stacks at a time; the tests assert on
what it recorded. Expected results are expect.json's, never the product's own answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from runbook_lib import aws
from runbook_lib.sandbox import server as sandbox
from runbook_lib.sandbox.lostanswer import apply_fresh_stack
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.workspace import workspace

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.xdist_group("corpus-stacks"),
    pytest.mark.skipif(
        find_terraform() is None,
        reason="no terraform binary on PATH (set RUNBOOK_TERRAFORM to use another one)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "stacks"
STACKS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
ITEM_TYPE = "aws_dynamodb_table_item"
VISITS = 5
LATER_APPLIES = 2
WORKERS = 3  # parallel stacks: Terraform and the provider are the cost, 2 cores shared
RUNBOOK = Path(sys.executable).with_name("runbook")
# The README's sandbox shell exports the sandbox's own counter; here it is another table.
OTHER_TABLE = "corpus-readme-shell-VisitorCount"
OTHER_COUNT = 7
SHELL_RUNBOOK_ENV = {
    "RUNBOOK_TABLE": OTHER_TABLE,
    "RUNBOOK_KEY_NAME": "stat",
    "RUNBOOK_KEY_VALUE": "Quantity",
    "RUNBOOK_COUNT_ATTRIBUTE": "viewCount",
}


def expect(stack: str) -> dict[str, Any]:
    return json.loads((CORPUS / stack / "expect.json").read_text())


def typed_key(exp: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The counter item's key in DynamoDB wire format, with its real types."""
    key = {exp["key_name"]: {exp["key_type"]: exp["key_value"]}}
    if exp["range_key_name"]:
        key[exp["range_key_name"]] = {exp["range_key_type"]: exp["range_key_value"]}
    return key


def read_count(exp: dict[str, Any]) -> int | None:
    """The live count (strongly consistent); None when the item or the attribute is gone."""
    item = aws.client("dynamodb").get_item(
        TableName=exp["table"], Key=typed_key(exp), ConsistentRead=True
    )
    value = (item.get("Item") or {}).get(exp["count_attribute"])
    return int(value["N"]) if value else None


def visit(exp: dict[str, Any]) -> None:
    """One visit as the Lambda counts it: an atomic ADD, never read-modify-write."""
    aws.client("dynamodb").update_item(
        TableName=exp["table"],
        Key=typed_key(exp),
        UpdateExpression="ADD #c :one",
        ExpressionAttributeNames={"#c": exp["count_attribute"]},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def tree_hash(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def items_in_state_file(path: Path) -> list[str]:
    """Every aws_dynamodb_table_item instance of a local state file (format 4), child
    modules included, read without starting the provider:
    the GIVEN's and the THEN's check."""
    found = []
    for res in json.loads(path.read_text()).get("resources", []):
        if res.get("mode") == "managed" and res.get("type") == ITEM_TYPE:
            base = f"{res['module']}." if res.get("module") else ""
            for inst in res.get("instances", []):
                key = f"[{json.dumps(inst['index_key'])}]" if "index_key" in inst else ""
                found.append(f"{base}{ITEM_TYPE}.{res['name']}{key}")
    return sorted(found)


def shell_env(moto_url: str, folder: Path) -> dict[str, str]:
    """The README's sandbox shell (`eval "$(runbook sandbox env)"`): endpoint, region, dummy
    keys and RUNBOOK_* naming another table; runbook state and backups in the test's tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNBOOK_", "AWS_"))}
    env.update(SHELL_RUNBOOK_ENV)
    env.update(
        {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_REGION": sandbox.REGION,
            "AWS_DEFAULT_REGION": sandbox.REGION,
            "AWS_ACCESS_KEY_ID": sandbox.DUMMY_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": sandbox.DUMMY_SECRET,
            "RUNBOOK_HOME": str(ROOT),
            "RUNBOOK_STATE_DIR": str(folder / "runbook-state"),
            "RUNBOOK_BACKUPS": str(folder / "backups"),
        }
    )
    return env


@dataclass
class Story:
    """What happened to one stack, phase by phase (None: the phase did not run)."""

    stack: str
    copy: Path
    error: str | None = None  # the phase that raised, and its traceback tail
    items_applied: list[str] | None = None
    count_given: int | None = None
    before: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    output: str = ""
    result: dict[str, Any] | None = None
    after: dict[str, str] = field(default_factory=dict)
    count_migrated: int | None = None
    items_after: list[str] | None = None
    counts_later: list[int | None] = field(default_factory=list)
    other_count: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])


def _given(story: Story, exp: dict[str, Any]) -> None:
    """GIVEN the stack applied (a copy of it) and VISITS visits."""
    ws = workspace(story.copy)
    ws.sync()
    ws.init()
    # names are fresh: a create whose answer the provider lost (a table, or the item its
    # retried PutItem then finds) is the apply's own, so the stack starts over
    apply_fresh_stack(ws, exp["tables"])
    story.items_applied = items_in_state_file(story.copy / "terraform.tfstate")
    for _ in range(VISITS):
        visit(exp)
    story.count_given = read_count(exp)


def _when(story: Story, exp: dict[str, Any], moto_url: str, work: Path) -> None:
    """WHEN 05_migrate runs in the sandbox shell, given only terraform_dir, dry_run, confirm."""
    out = work / "reports"
    cmd = [str(RUNBOOK), "run", "05_migrate", "-p", "terraform_dir", str(story.copy)]
    cmd += ["-p", "dry_run", "False", "-p", "confirm", exp["table"], "--out", str(out)]
    story.before = tree_hash(story.copy)
    proc = subprocess.run(
        [*cmd, "--no-html"],
        env=shell_env(moto_url, work),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=1200,
        stdin=subprocess.DEVNULL,
    )
    story.exit_code, story.output = proc.returncode, proc.stdout + proc.stderr
    found = sorted(out.glob("*-05_migrate/result.json"))
    story.result = json.loads(found[-1].read_text()) if found else None
    story.after = tree_hash(story.copy)


def _then(story: Story, exp: dict[str, Any]) -> None:
    """What the state and the count are after the migration, and after 2 more applies."""
    story.count_migrated = read_count(exp)
    # GIVEN's shadow, its .terraform/ and lock file kept by sync (no second init: a stack
    # that needed one would fail its plan here, loudly)
    ws = workspace(story.copy)
    ws.sync()
    for _ in range(LATER_APPLIES):
        ws.converge()
        story.counts_later.append(read_count(exp))
    # the state the applies left (the copy's own terraform.tfstate: the backend is local)
    story.items_after = items_in_state_file(story.copy / "terraform.tfstate")


def _story(stack: str, moto_url: str, base: Path) -> Story:
    started = time.monotonic()
    exp = expect(stack)
    work = base / stack
    story = Story(stack, work / "stack")
    shutil.copytree(CORPUS / stack, story.copy, ignore=shutil.ignore_patterns("expect.json"))
    phase = "given"
    try:
        if exp["outcome"] == "migrate":
            _given(story, exp)
        story.seconds[phase] = time.monotonic() - started
        phase = "when"
        _when(story, exp, moto_url, work)
        story.seconds[phase] = time.monotonic() - started - sum(story.seconds.values())
        if exp["outcome"] == "migrate" and story.exit_code == 0:
            phase = "then"
            _then(story, exp)
            story.seconds[phase] = time.monotonic() - started - sum(story.seconds.values())
    except Exception:
        story.error = f"{phase}: {traceback.format_exc(limit=-3)}"
    story.other_count = int(
        aws.client("dynamodb").get_item(
            TableName=OTHER_TABLE, Key={"stat": {"S": "Quantity"}}, ConsistentRead=True
        )["Item"]["viewCount"]["N"]
    )
    return story


def selected_stacks(request: pytest.FixtureRequest) -> list[str]:
    """The stacks this session tests: all of them, unless `-k` or node ids choose some (a
    story costs a dozen seconds of Terraform; untested ones are not told)."""
    chosen = {
        item.callspec.params["stack"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    return [s for s in STACKS if s in chosen]


@pytest.fixture(scope="module")
def stories(
    moto_url: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, Story]:
    """Every tested stack's story, WORKERS at a time, after the README shell's own table
    exists."""
    ddb = aws.client("dynamodb")
    ddb.create_table(
        TableName=OTHER_TABLE,
        KeySchema=[{"AttributeName": "stat", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "stat", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(
        TableName=OTHER_TABLE,
        Item={"stat": {"S": "Quantity"}, "viewCount": {"N": str(OTHER_COUNT)}},
    )
    base = tmp_path_factory.mktemp("corpus")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = list(pool.map(lambda s: _story(s, moto_url, base), selected_stacks(request)))
    print(f"\ncorpus: {len(done)} stacks in {time.monotonic() - started:.0f}s")
    for story in done:
        phases = " ".join(f"{k} {v:.0f}s" for k, v in story.seconds.items())
        message = (story.result or {}).get("message") or story.tail(1)
        print(f"  {story.stack}: exit {story.exit_code} ({phases}): {str(message)[:160]}")
    return {story.stack: story for story in done}


MIGRATE = [s for s in STACKS if expect(s)["outcome"] == "migrate"]
REFUSE_PIN = [s for s in STACKS if expect(s)["outcome"] == "refuse_pin"]


@pytest.mark.parametrize("stack", MIGRATE)
def test_migrate_given_only_terraform_dir_keeps_every_visit(stack, stories):
    story, exp = stories[stack], expect(stack)
    initial = exp["initial_count"] or 0
    # GIVEN (the test's own setup: a failure here is the test's, not the product's)
    assert story.items_applied == sorted(exp["items"]), f"GIVEN failed: {story.error}"
    assert story.count_given == initial + VISITS, f"GIVEN failed: {story.error}"
    # WHEN / THEN: 05_migrate in the README's shell
    assert story.exit_code == 0, f"05_migrate exit {story.exit_code}:\n{story.tail()}"
    assert "Already safe" not in story.output, story.tail()
    assert story.result is not None, f"no result.json:\n{story.tail()}"
    assert story.result.get("migrated") is True, story.result.get("message")
    assert "Already safe" not in str(story.result.get("message"))
    assert story.error is None, story.error
    assert story.count_migrated == initial + VISITS, "the migration lost or added visits"
    assert story.items_after == [], f"still in state: {story.items_after}"
    assert story.counts_later == [initial + VISITS] * LATER_APPLIES, "an apply reset the count"
    assert story.other_count == OTHER_COUNT, f"{OTHER_TABLE} (RUNBOOK_TABLE) was written"


@pytest.mark.parametrize("stack", REFUSE_PIN)
def test_an_unsatisfiable_version_pin_is_refused_naming_it_with_nothing_written(stack, stories):
    story, exp = stories[stack], expect(stack)
    assert story.error is None, story.error
    assert story.exit_code in (2, 3), f"exit {story.exit_code}:\n{story.tail()}"
    assert exp["pin"] in story.output, f"the pin {exp['pin']} is not named:\n{story.tail()}"
    assert "Traceback" not in story.output, story.tail()
    assert story.after == story.before, "the stack's files changed"
    assert exp["table"] not in aws.client("dynamodb").list_tables()["TableNames"]
    assert story.other_count == OTHER_COUNT, f"{OTHER_TABLE} (RUNBOOK_TABLE) was written"
