"""05_migrate on the corpus of real-world stack shapes (tests/fixtures/stacks/), end to end.

For every stack, black-box through the CLI, in the README's sandbox shell:

GIVEN a copy of the stack applied to the session's moto server (in its own folder, or in
expect.json's `terraform_dir` with its `var_files`; a stack with an S3 backend gets the
server's URL in its copy and its bucket and lock table first) and 5 visits on each of its
counter items (the Lambda's atomic `ADD`; on a count stored as a string, the site's
conditional read-modify-write of the string), and a shell whose RUNBOOK_* point at ANOTHER
table (`eval "$(runbook sandbox env)"` exports the sandbox's: issue 9's first bug) and
whose AWS_REGION (us-east-1) is not the region of a stack that names its own,
WHEN `runbook run 05_migrate -p terraform_dir DIR -p dry_run False -p confirm TABLE` runs
(plus `-p var_files F` where the author's CI passes a var file),
THEN it exits 0 and says migrated (never "Already safe"), the state (local, or in the
sandbox's S3 for a backend stack, which then has no local state file) holds no
aws_dynamodb_table_item (child modules included), the other table is untouched, no table
of the stack appeared in the shell's region, and after 3 more applies every counter item
holds its configured count plus the 5 visits, of the same DynamoDB type (05_migrate's two
verifying applies, then one of the test's own).
A stack pinned to a Terraform this machine does not have is refused, naming the pin, with
nothing written.

Terraform runs cost seconds each, so each stack's whole story (apply, visits, migrate,
an apply) runs in one module fixture, three stacks at a time, and the test's own
Terraform commands on a stack share one provider process (tf.sharedprovider); the tests
assert on what it recorded. Expected results are expect.json's, never the product's own
answers.
"""

from __future__ import annotations

import contextlib
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
from runbook_lib.tf.binary import find_terraform
from runbook_lib.tf.lostanswer import apply_fresh_stack
from runbook_lib.tf.sharedprovider import shared_provider
from runbook_lib.tf.workspace import workspace
from tests.conftest import tree_hash

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
# The user's own applies after the migration. 05_migrate's two verifying applies (real
# `terraform apply`s of the migrated stack, on its real state) come first: the live counts
# read after the run are after them, and result.json says no count was restored, so one
# more apply of the test's own makes three, one of them independent of the runbook.
LATER_APPLIES = 1
VERIFY_APPLIES = 2  # 05_migrate's default, left as the user leaves it
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
Count = tuple[int, str]  # a live count and its DynamoDB type ("N" or "S")


def expect(stack: str) -> dict[str, Any]:
    return json.loads((CORPUS / stack / "expect.json").read_text())


def region(exp: dict[str, Any]) -> str:
    """Where the stack's tables live (expect.json `region`; else the shell's)."""
    return exp.get("region", sandbox.REGION)


def ddb(exp: dict[str, Any]) -> Any:
    return aws.client("dynamodb", region=region(exp))


def typed_key(exp: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The counter item's key in DynamoDB wire format, with its real types."""
    key = {exp["key_name"]: {exp["key_type"]: exp["key_value"]}}
    if exp["range_key_name"]:
        key[exp["range_key_name"]] = {exp["range_key_type"]: exp["range_key_value"]}
    return key


def counters(exp: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item that counts: `counter_items`, else the one the top-level fields name."""
    if "counter_items" in exp:
        return exp["counter_items"]
    return [
        {
            "item": exp["counter_item"],
            "key": typed_key(exp),
            "count_attribute": exp["count_attribute"],
            "count_type": exp.get("count_type", "N"),
            "initial_count": exp["initial_count"],
        }
    ]


def wanted_counts(exp: dict[str, Any]) -> dict[str, Count]:
    """Each counter item's count after the GIVEN's visits, and its type: what must last."""
    return {c["item"]: ((c["initial_count"] or 0) + VISITS, c["count_type"]) for c in counters(exp)}


def read_count(exp: dict[str, Any], counter: dict[str, Any]) -> Count | None:
    """The live count (strongly consistent) and its type; None when the item or the
    attribute is gone. An S count is read as the number its string holds."""
    item = ddb(exp).get_item(TableName=exp["table"], Key=counter["key"], ConsistentRead=True)
    value = (item.get("Item") or {}).get(counter["count_attribute"])
    if not value:
        return None
    ((kind, text),) = value.items()
    return int(text), kind


def read_counts(exp: dict[str, Any]) -> dict[str, Count | None]:
    return {c["item"]: read_count(exp, c) for c in counters(exp)}


def visit(exp: dict[str, Any], counter: dict[str, Any]) -> None:
    """One visit as the site counts it: the Lambda's atomic ADD on a number; on a string
    (ADD cannot add to one) the site's read-modify-write, conditional on the string read."""
    client, attribute = ddb(exp), counter["count_attribute"]
    if counter["count_type"] == "N":
        client.update_item(
            TableName=exp["table"],
            Key=counter["key"],
            UpdateExpression="ADD #c :one",
            ExpressionAttributeNames={"#c": attribute},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return
    read = client.get_item(TableName=exp["table"], Key=counter["key"], ConsistentRead=True)
    old = read["Item"][attribute]["S"]
    client.update_item(
        TableName=exp["table"],
        Key=counter["key"],
        UpdateExpression="SET #c = :new",
        ConditionExpression="#c = :old",
        ExpressionAttributeNames={"#c": attribute},
        ExpressionAttributeValues={":new": {"S": str(int(old) + 1)}, ":old": {"S": old}},
    )


def items_in_state(doc: dict[str, Any]) -> list[str]:
    """Every aws_dynamodb_table_item instance of a state document (format 4), child
    modules included, read without starting the provider:
    the GIVEN's and the THEN's check."""
    found = []
    for res in doc.get("resources", []):
        if res.get("mode") == "managed" and res.get("type") == ITEM_TYPE:
            base = f"{res['module']}." if res.get("module") else ""
            for inst in res.get("instances", []):
                key = f"[{json.dumps(inst['index_key'])}]" if "index_key" in inst else ""
                found.append(f"{base}{ITEM_TYPE}.{res['name']}{key}")
    return sorted(found)


def read_state(story: Story, exp: dict[str, Any]) -> dict[str, Any]:
    """The stack's state where the stack keeps it: its S3 backend in the sandbox (read
    with the S3 API, not through the product), else terraform.tfstate in terraform_dir."""
    backend = exp.get("s3_backend")
    if backend is None:
        return json.loads((story.tf_dir / "terraform.tfstate").read_text())
    s3 = aws.client("s3", region=backend["region"])
    body = s3.get_object(Bucket=backend["bucket"], Key=backend["key"])["Body"].read()
    return json.loads(body)


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
    copy: Path  # the copy of the stack folder (a repository root where terraform_dir is set)
    tf_dir: Path  # where Terraform runs: the copy, or its terraform_dir
    error: str | None = None  # the phase that raised, and its traceback tail
    items_applied: list[str] | None = None
    counts_given: dict[str, Count | None] = field(default_factory=dict)
    before: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    output: str = ""
    result: dict[str, Any] | None = None
    after: dict[str, str] = field(default_factory=dict)
    counts_migrated: dict[str, Count | None] = field(default_factory=dict)
    items_after: list[str] | None = None
    counts_later: list[dict[str, Count | None]] = field(default_factory=list)
    local_states: list[str] = field(default_factory=list)  # *.tfstate files in the copy
    in_shell_region: list[str] = field(default_factory=list)  # its tables found in us-east-1
    ws: Any = None  # the GIVEN's and THEN's workspace, attached to one provider process
    shared: bool = False  # whether it is (tf.sharedprovider, as 05_migrate's own commands)
    other_count: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])

    def workspace(self, exp: dict[str, Any]) -> Any:
        """The test's own workspace for the stack, with the author's var files."""
        files = [self.tf_dir / name for name in exp.get("var_files", [])]
        return workspace(self.tf_dir, var_files=files)


def _prepare(story: Story, exp: dict[str, Any], moto_url: str) -> None:
    """The copy; for an S3 backend in the sandbox, the server's URL in the copy's files (the
    fixture holds a placeholder) and the bucket and lock table the backend expects."""
    shutil.copytree(CORPUS / story.stack, story.copy, ignore=shutil.ignore_patterns("expect.json"))
    backend = exp.get("s3_backend")
    if backend is None:
        return
    for path in story.copy.rglob("*.tf"):
        text = path.read_text()
        if backend["endpoint_placeholder"] in text:
            path.write_text(text.replace(backend["endpoint_placeholder"], moto_url))
    aws.client("s3", region=backend["region"]).create_bucket(
        Bucket=backend["bucket"],
        CreateBucketConfiguration={"LocationConstraint": backend["region"]},
    )
    aws.client("dynamodb", region=backend["region"]).create_table(
        TableName=backend["lock_table"],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _given(story: Story, exp: dict[str, Any], provider: contextlib.ExitStack) -> None:
    """GIVEN the stack applied (a copy of it, with the author's var files) and VISITS
    visits on each counter item. The test's own Terraform commands share one provider
    process where 05_migrate's would (`provider` stops it at the story's end)."""
    story.ws = ws = story.workspace(exp)
    ws.sync()
    ws.init()
    story.shared = provider.enter_context(shared_provider(ws)) is not None
    # names are fresh: a create whose answer the provider lost (a table, or the item its
    # retried PutItem then finds) is the apply's own, so the stack starts over
    apply_fresh_stack(ws, exp["tables"])
    story.items_applied = items_in_state(read_state(story, exp))
    for counter in counters(exp):
        for _ in range(VISITS):
            visit(exp, counter)
    story.counts_given = read_counts(exp)


def _when(story: Story, exp: dict[str, Any], moto_url: str, work: Path) -> None:
    """WHEN 05_migrate runs in the sandbox shell, given only terraform_dir, dry_run, confirm
    (and the var files the author's CI passes)."""
    out = work / "reports"
    cmd = [str(RUNBOOK), "run", "05_migrate", "-p", "terraform_dir", str(story.tf_dir)]
    if exp.get("var_files"):
        cmd += ["-p", "var_files", ",".join(exp["var_files"])]
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
    """What the state and the counts are after the migration (and its verifying applies),
    and after the user's own apply."""
    story.counts_migrated = read_counts(exp)
    # GIVEN's shadow, its .terraform/ and lock file kept by sync (no second init: a stack
    # that needed one would fail its plan here, loudly)
    ws = story.ws
    ws.sync()
    for _ in range(LATER_APPLIES):
        ws.converge()
        story.counts_later.append(read_counts(exp))
    # the state the applies left, where the stack keeps it
    story.items_after = items_in_state(read_state(story, exp))


def _aftermath(story: Story, exp: dict[str, Any]) -> None:
    """What the run may have left where it must not: local state files in the copy, the
    stack's tables in the shell's region, a write to the shell's RUNBOOK_TABLE."""
    story.local_states = sorted(
        str(p.relative_to(story.copy)) for p in story.copy.rglob("*.tfstate")
    )
    if region(exp) != sandbox.REGION:
        here = aws.client("dynamodb", region=sandbox.REGION).list_tables()["TableNames"]
        story.in_shell_region = sorted(set(exp["tables"].values()) & set(here))
    item = aws.client("dynamodb", region=sandbox.REGION).get_item(
        TableName=OTHER_TABLE, Key={"stat": {"S": "Quantity"}}, ConsistentRead=True
    )
    story.other_count = int(item["Item"]["viewCount"]["N"])


def _story(stack: str, moto_url: str, base: Path) -> Story:
    started = time.monotonic()
    exp = expect(stack)
    work = base / stack
    copy = work / "stack"
    story = Story(stack, copy, copy / exp.get("terraform_dir", ""))
    phase = "given"
    try:
        with contextlib.ExitStack() as provider:
            _prepare(story, exp, moto_url)
            if exp["outcome"] == "migrate":
                _given(story, exp, provider)
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
    try:
        _aftermath(story, exp)
    except Exception:
        story.error = story.error or f"aftermath: {traceback.format_exc(limit=-3)}"
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
    client = aws.client("dynamodb", region=sandbox.REGION)
    client.create_table(
        TableName=OTHER_TABLE,
        KeySchema=[{"AttributeName": "stat", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "stat", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(
        TableName=OTHER_TABLE,
        Item={"stat": {"S": "Quantity"}, "viewCount": {"N": str(OTHER_COUNT)}},
    )
    base = tmp_path_factory.mktemp("corpus")
    started, cpu = time.monotonic(), os.times()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = list(pool.map(lambda s: _story(s, moto_url, base), selected_stacks(request)))
    # children: every Terraform, provider and runbook process the stories waited for
    used = sum(os.times()[:4]) - sum(cpu[:4])
    print(f"\ncorpus: {len(done)} stacks in {time.monotonic() - started:.0f}s, {used:.0f} CPU s")
    for story in done:
        phases = " ".join(f"{k} {v:.0f}s" for k, v in story.seconds.items())
        phases += ", shared provider" if story.shared else ""
        message = (story.result or {}).get("message") or story.tail(1)
        print(f"  {story.stack}: exit {story.exit_code} ({phases}): {str(message)[:160]}")
    return {story.stack: story for story in done}


MIGRATE = [s for s in STACKS if expect(s)["outcome"] == "migrate"]
REFUSE_PIN = [s for s in STACKS if expect(s)["outcome"] == "refuse_pin"]


@pytest.mark.parametrize("stack", MIGRATE)
def test_migrate_given_only_terraform_dir_keeps_every_visit(stack, stories):
    story, exp = stories[stack], expect(stack)
    want = wanted_counts(exp)
    # GIVEN (the test's own setup: a failure here is the test's, not the product's)
    assert story.items_applied == sorted(exp["items"]), f"GIVEN failed: {story.error}"
    assert story.counts_given == want, f"GIVEN failed: {story.error}"
    # WHEN / THEN: 05_migrate in the README's shell
    assert story.exit_code == 0, f"05_migrate exit {story.exit_code}:\n{story.tail()}"
    assert "Already safe" not in story.output, story.tail()
    assert story.result is not None, f"no result.json:\n{story.tail()}"
    assert story.result.get("migrated") is True, story.result.get("message")
    assert "Already safe" not in str(story.result.get("message"))
    assert story.error is None, story.error
    assert story.counts_migrated == want, "the migration lost or added visits, or a type"
    assert story.items_after == [], f"still in state: {story.items_after}"
    assert story.result.get("applies_done") == 1 + VERIFY_APPLIES, story.result.get("applies")
    assert story.result.get("restored_from_backup") is None, "a verifying apply reset a count"
    assert story.counts_later == [want] * LATER_APPLIES, "an apply reset a count"
    if "s3_backend" in exp:
        assert story.local_states == [], f"state written beside the stack: {story.local_states}"
    assert story.in_shell_region == [], f"created in {sandbox.REGION}: {story.in_shell_region}"
    assert story.other_count == OTHER_COUNT, f"{OTHER_TABLE} (RUNBOOK_TABLE) was written"


@pytest.mark.parametrize("stack", REFUSE_PIN)
def test_an_unsatisfiable_version_pin_is_refused_naming_it_with_nothing_written(stack, stories):
    story, exp = stories[stack], expect(stack)
    assert story.error is None, story.error
    assert story.exit_code in (2, 3), f"exit {story.exit_code}:\n{story.tail()}"
    assert exp["pin"] in story.output, f"the pin {exp['pin']} is not named:\n{story.tail()}"
    assert "Traceback" not in story.output, story.tail()
    assert story.after == story.before, "the stack's files changed"
    assert exp["table"] not in ddb(exp).list_tables()["TableNames"]
    assert story.other_count == OTHER_COUNT, f"{OTHER_TABLE} (RUNBOOK_TABLE) was written"
