"""Terraform applies to the sandbox that survive the AWS provider losing one of its answers.

The provider's SDK retries a call whose answer it did not get. When the first attempt had
taken effect, the retry meets it and the apply fails on the apply's own resource:
- "already exists": a table, role or log group (lost_answer_collision);
- ConditionalCheckFailedException on "creating DynamoDB Table (...) Item": the provider
  creates an aws_dynamodb_table_item with a PutItem conditioned on the key being absent,
  and its first attempt wrote the item (seen in tests/e2e/test_corpus_terraform.py).

Why answers were lost in the sandbox (a packet capture, 114 applies): the provider's Go
HTTP client closed its own connection between the answer's headers and its body, which
werkzeug sent as two segments; the body read failed and the SDK retried. sandbox.motoserver
now sends each answer in one write, which removed every retry seen (0 in 76 applies under
the same load), but only narrows the race: an answer larger than the client's first read,
or a 500 after a write (DynamoDB's own docs: it "may or may not" have been applied), loses
it the same way. So the applies below still recover.

Where every name the stack creates is fresh, what the retry met can only be the apply's
own, so the apply starts over and runs again, as `runbook sandbox up` does
(server.apply_stack: a server of its own is reset). A stack on a server others use is
destroyed instead, its lost-answer tables imported first so the destroy takes them too (a
lost item is in a table the state holds). After APPLY_ROUNDS, a failure is raised as it is.

The destroy can lose an answer the same way: its DeleteTable took effect, the retry finds
no table ("deleting ... ResourceNotFoundException"; moto's message lacks the ": Table: "
the provider looks for to take that as deleted). Seen in CI, and caused for real in
tests/e2e/test_lost_answer_apply.py by a 500 after moto applied the request. The next
destroy's refresh finds the resource gone and drops it from the state, so the destroy runs
again, up to DESTROY_ROUNDS times in all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from runbook_lib.errors import TerraformError
from runbook_lib.tf.sharedprovider import shared_provider
from runbook_lib.tf.state import state_resources
from runbook_lib.tf.workspace import Workspace

T = TypeVar("T")
Log = Callable[[str], None]

# The provider's error when an aws_dynamodb_table_item's create met an item already there.
ITEM_MET = re.compile(
    r"creating DynamoDB Table \([^)]*\) Item: .*ConditionalCheckFailedException", re.DOTALL
)
# The provider's error when a delete's retry found nothing: its first attempt deleted it.
DELETE_MET_NOTHING = re.compile(r"deleting [^\n]*ResourceNotFoundException")
# Rounds in all: each is independent, and a lost answer is rare (motoserver's one write)
APPLY_ROUNDS = 3
DESTROY_ROUNDS = 3  # each destroy starts with a fresh refresh


def lost_answer_collision(exc: BaseException) -> bool:
    """The apply failed because a resource it was creating "already exists": the
    provider's retry met what its first attempt made (a lost answer: see above). Only
    where every name in the stack is fresh is that certainly not a genuine clash."""
    return isinstance(exc, TerraformError) and "already exists" in str(exc)


def lost_answer(exc: BaseException) -> bool:
    """The apply failed on something its own provider's retry met: a resource "already
    exists", or a table item's conditional create found the item. Only where the stack's
    names are all fresh is that certainly the apply's own."""
    return lost_answer_collision(exc) or (
        isinstance(exc, TerraformError) and ITEM_MET.search(str(exc)) is not None
    )


def apply_starting_over(
    apply: Callable[[], T],
    start_over: Callable[[TerraformError], object],
    log: Log,
    how: str = "starting over",
) -> T:
    """apply(); while it fails on a lost answer (`lost_answer`), start_over(the error)
    removes what the failed apply made (`how` says what it does) and apply() runs again,
    APPLY_ROUNDS in all."""

    def said_and_started_over(exc: TerraformError) -> None:
        log(
            "terraform apply met a resource its own retry had just created (the "
            f"provider lost moto's answer); {how} and applying again."
        )
        start_over(exc)

    return _in_rounds(apply, lost_answer, said_and_started_over, APPLY_ROUNDS)


def _in_rounds(
    call: Callable[[], T],
    lost: Callable[[TerraformError], bool],
    between: Callable[[TerraformError], object],
    rounds: int,
) -> T:
    """call(), again after between(the error) while it fails on what `lost` recognises,
    `rounds` calls in all; any other failure, or the last round's, is raised as it is."""
    for round_ in range(1, rounds + 1):
        try:
            return call()
        except TerraformError as exc:
            if round_ == rounds or not lost(exc):
                raise
            between(exc)
    raise AssertionError("unreachable: the last round returns or raises")


def destroy_own(ws: Workspace, tables: Mapping[str, str], failure: TerraformError) -> None:
    """Remove what a failed apply of ws made: each table of `tables` {address: name} the
    failure names and the state lacks (its create's answer was lost) is imported, then
    `terraform destroy` deletes every resource in the state, items with their tables."""
    in_state = {r.get("address") for r in state_resources(ws.show())}
    for address, name in tables.items():
        if address not in in_state and name in str(failure):
            ws.run(["import", "-input=false", "-no-color", address, name])
    destroy_surviving_lost_deletes(ws)


def destroy_surviving_lost_deletes(ws: Workspace) -> None:
    """`terraform destroy`, run again while it fails only because a delete's retry found
    what its first attempt had already deleted (DELETE_MET_NOTHING), DESTROY_ROUNDS in all."""
    _in_rounds(
        lambda: ws.run(["destroy", "-auto-approve", "-input=false", "-no-color"]),
        lambda exc: DELETE_MET_NOTHING.search(str(exc)) is not None,
        lambda _exc: None,
        DESTROY_ROUNDS,
    )


def apply_fresh_stack(ws: Workspace, tables: Mapping[str, str], log: Log = print) -> None:
    """`terraform apply` of ws (synced and initialised), a stack whose every name is fresh
    on a sandbox server others may use; `tables` {address: name} are its DynamoDB tables.
    On a lost answer the stack is destroyed (destroy_own) and applied again, the commands
    sharing one provider process (unless the caller's already do)."""
    with shared_provider(ws):
        apply_starting_over(
            ws.apply, lambda exc: destroy_own(ws, tables, exc), log, "destroying the stack"
        )
