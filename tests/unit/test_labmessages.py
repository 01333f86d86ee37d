"""Errors and hints in JupyterLab's terms (issue 20): runbook_lib/notebook/labmessages.py and
the pure rewrite it uses (labhints.py).

GIVEN the texts the package writes (hints, "To apply:" / "Undo:" commands, refusals), many
made here by the real code that writes them
WHEN they are rewritten for a notebook, with 03_set_count's real parameters cell run into the
namespace
THEN command-line forms read as parameters-cell edits (strings quoted, numbers and booleans
bare, as the parameter's type says), what is not understood stays exactly as it was, and
headless (RUNBOOK_RUN_DIR set) nothing changes at all.

The kernel side (what ipykernel sends) is tests/e2e/test_labmessages_kernel.py.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook_lib.errors import ConfirmationError, InvalidInputError, RunbookError
from runbook_lib.model import Target
from runbook_lib.notebook import labmessages
from runbook_lib.notebook.labmessages import error_lines, for_here, for_notebook
from runbook_lib.notebook.paramcheck import check_times
from runbook_lib.steps.common import auditlog, confirm
from runbook_lib.steps.setcount import plan

ROOT = Path(__file__).resolve().parents[2]
TARGET = Target(table="resume-VisitorCount")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def parameters(notebook: str) -> dict:
    """The namespace a kernel has after running the notebook's real parameters cell."""
    nb = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    namespace: dict = {"__session__": f"notebooks/{notebook}.ipynb"}
    exec("".join(cell["source"]), namespace)
    return namespace


@pytest.fixture(scope="module")
def ns() -> dict:
    return parameters("03_set_count")


def raised(call, *args, **kwargs) -> RunbookError:
    with pytest.raises(RunbookError) as info:
        call(*args, **kwargs)
    return info.value


# ---- the shapes the package writes, one by one --------------------------------------------

SHAPES = [
    # the brief's example: a whole command for this notebook
    (
        "runbook run 03_set_count -p new_value 4700 -p dry_run False -p confirm T",
        'in the parameters cell set `new_value = 4700`, `dry_run = False`, `confirm = "T"`, '
        "then run all",
    ),
    # steps/plan.py
    (
        "pass -p new_value N; a reset to 0 is -p new_value 0 -p allow_decrease True.",
        "set `new_value = N` in the parameters cell and run all; a reset to 0 is "
        "`new_value = 0`, `allow_decrease = True`.",
    ),
    # notebook/paramcheck.py: capital "Pass", a parenthesis that belongs to the value
    (
        "the count to set. Pass -p new_value N (a dry run unless dry_run False); a reset",
        "the count to set. Set `new_value = N` (a dry run unless dry_run False) in the "
        "parameters cell and run all; a reset",
    ),
    # target/model.py: a string parameter, then prose after a comma
    (
        "pass -p range_key_value VALUE, or terraform_dir of the stack that writes it.",
        'set `range_key_value = "VALUE"` in the parameters cell and run all, or '
        "terraform_dir of the stack that writes it.",
    ),
    # target/model.py: in parentheses, beside commands that are not `runbook run`
    (
        "pass table_name (-p table_name NAME) or terraform_dir (-p terraform_dir STACK), set "
        'RUNBOOK_TABLE, or start the sandbox: runbook sandbox up && eval "$(runbook sandbox '
        'env)".',
        'pass table_name (`table_name = "NAME"`) or terraform_dir (`terraform_dir = "STACK"`), '
        'set RUNBOOK_TABLE, or start the sandbox: runbook sandbox up && eval "$(runbook '
        'sandbox env)".',
    ),
    # target/sources.py
    (
        "pass -p table_name counter-a (or another of them).",
        'set `table_name = "counter-a"` (or another of them) in the parameters cell and run all.',
    ),
    # target/keys.py: key_value is a str parameter, so its 0 is "0"
    (
        "pass the item's key as a number, e.g. -p key_value 0 (id).",
        'pass the item\'s key as a number, e.g. `key_value = "0"` (id).',
    ),
    # errors.py ItemMissingError: another notebook, no parameters
    (
        "run 01_init (runbook run 01_init) to create the counter item.",
        "run 01_init (open 01_init and run all) to create the counter item.",
    ),
    # steps/guardplan.py: another notebook with parameters its namespace does not hold
    (
        "back it up first: runbook run 04_backup_restore -p action backup -p kind native",
        "back it up first: open 04_backup_restore and in its parameters cell set "
        '`action = "backup"`, `kind = "native"`, then run all',
    ),
    # steps/tfguard.py
    (
        "run 05_migrate first (runbook run 05_migrate -p terraform_dir stacks/site)",
        "run 05_migrate first (open 05_migrate and in its parameters cell set "
        '`terraform_dir = "stacks/site"`, then run all)',
    ),
    (
        "pass -p terraform_dir DIR (the folder you run terraform apply in)",
        'set `terraform_dir = "DIR"` (the folder you run terraform apply in) in the parameters '
        "cell and run all",
    ),
    # steps/historyframe.py, statuschecks.py: commands followed by prose in parentheses
    (
        "rebuild the count from CloudWatch: runbook run 07_recover (dry run first), or restore "
        "the last backup from before 07:12: runbook run 04_backup_restore (action=list, then "
        "restore it, dry run first)",
        "rebuild the count from CloudWatch: open 07_recover and run all (dry run first), or "
        "restore the last backup from before 07:12: open 04_backup_restore and run all "
        "(action=list, then restore it, dry run first)",
    ),
    # steps/migrate.py: after a colon
    (
        "Nothing was written. To migrate: -p dry_run False -p confirm site-VisitorCount",
        "Nothing was written. To migrate: set `dry_run = False`, "
        '`confirm = "site-VisitorCount"` in the parameters cell and run all',
    ),
    # steps/migrate_edit.py: alternatives to the value
    (
        "pass -p strategy removed (the default), state_rm or ignore_changes.",
        'set `strategy = "removed"` (the default), `"state_rm"` or `"ignore_changes"` in the '
        "parameters cell and run all.",
    ),
    # steps/statuschecks.py
    (
        "if the counter is in one of these, pass -p table_name NAME (or set RUNBOOK_TABLE); "
        "only if none is, create it: terraform apply, or runbook sandbox up",
        'if the counter is in one of these, set `table_name = "NAME"` (or set RUNBOOK_TABLE) '
        "in the parameters cell and run all; only if none is, create it: terraform apply, or "
        "runbook sandbox up",
    ),
    (
        "check key_name and key_value (e.g. -p key_value VALUE); do not run 01_init",
        'check key_name and key_value (e.g. `key_value = "VALUE"`); do not run 01_init',
    ),
    # notebook/paramcheck.py: a placeholder, and prose right after the name
    (
        "pass -p new_value <int>; see `runbook params NAME` for every parameter.",
        "set `new_value = <int>` in the parameters cell and run all; see `runbook params NAME` "
        "for every parameter.",
    ),
    # steps/auditlog.py, shlex.join's bare words: a "." inside a command is the value's
    (
        "To apply: runbook run 03_set_count -p table_name site.v2. -p new_value 5 -p reason fixed.",
        'To apply: in the parameters cell set `table_name = "site.v2."`, `new_value = 5`, '
        '`reason = "fixed."`, then run all',
    ),
    (
        "pass -p new_value with a whole number from 0 to 10^38 - 1.",
        "set `new_value` in the parameters cell with a whole number from 0 to 10^38 - 1.",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SHAPES, ids=[s[0][:40] for s in SHAPES])
def test_each_shape_reads_as_a_parameters_cell_edit(ns, text, expected):
    assert for_notebook(text, ns) == expected


UNCHANGED = [
    # flags have no parameters-cell equivalent: the whole command stays, its -p too
    "runbook run 06_history --no-code --out s3://ops-reports/counter -p days 3",
    "runbook run 05_migrate -p terraform_dir path/to/stack \\",
    "runbook run 01_init && runbook run 02_status",
    # other commands
    'run `runbook sandbox down` then `runbook sandbox up`; eval "$(runbook sandbox env)".',
    "aws dynamodb put-item --table-name t --item file:///b/x.json --region eu-west-1",
    # already in the notebook's terms, or in `code` quotes
    "pass dry_run=False and confirm=<the table name> to apply the change.",
    "the runner takes `-p new_value 5` here",
    # no value to take
    "a trailing -p",
    "",
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_what_it_does_not_understand_stays_as_it_is(ns, text):
    assert for_notebook(text, ns) == text


# ---- texts made by the real code ----------------------------------------------------------


def test_the_set_hint_of_a_missing_new_value(ns):
    exc = raised(plan.plan_set, TARGET, None)
    assert for_notebook(exc.hint, ns).startswith(
        "set `new_value = N` in the parameters cell and run all; "
    )


def test_a_confirmation_refusal(ns):
    exc = raised(confirm.require_confirmation, TARGET, False, "")
    assert isinstance(exc, ConfirmationError)
    assert for_notebook(exc.hint, ns) == (
        'set `dry_run = False`, `confirm = "resume-VisitorCount"` in the parameters cell and '
        "run all."
    )


def test_a_dry_runs_apply_command_with_a_quoted_reason(ns):
    command = auditlog.set_command(
        Target(table="t-VisitorCount", key_name="id", key_value="0", count_attribute="hits"),
        4700,
        expected_current=4,
        allow_decrease=True,
        reason="it's a fix",
    )
    assert "'it'\"'\"'s a fix'" in command  # shlex's quoting of the apostrophe
    assert for_notebook(f"Nothing was written.\nTo apply: {command}", ns) == (
        "Nothing was written.\nTo apply: in the parameters cell set "
        '`table_name = "t-VisitorCount"`, `key_name = "id"`, `key_value = "0"`, '
        '`count_attribute = "hits"`, `new_value = 4700`, `expected_current = 4`, '
        '`allow_decrease = True`, `dry_run = False`, `confirm = "t-VisitorCount"`, '
        '`reason = "it\'s a fix"`, then run all'
    )


def test_an_undo_block_rewrites_the_runbook_line_only(ns, tmp_path):
    path = tmp_path / "a backup.json"
    cli, runbook = auditlog.undo_commands(TARGET, path, lowers=True)
    text = f"Backup: {path}\nUndo (AWS CLI): {cli}\nUndo (runbook, conditional): {runbook}"
    lines = for_notebook(text, ns).splitlines()
    assert lines[:2] == text.splitlines()[:2]  # the AWS CLI line is for a shell, as it is
    assert lines[2] == (
        "Undo (runbook, conditional): open 04_backup_restore and in its parameters cell set "
        f'`action = "restore"`, `backup_path = "{path}"`, `table_name = "resume-VisitorCount"`, '
        '`allow_decrease = True`, `dry_run = False`, `confirm = "resume-VisitorCount"`, then '
        "run all"
    )


def test_a_recover_command_opens_07_recover(ns):
    from runbook_lib.steps.recover import recover_command

    text = f"DRY RUN: nothing written. To apply: {recover_command(TARGET, days=3)}"
    assert for_notebook(text, ns) == (
        "DRY RUN: nothing written. To apply: open 07_recover and in its parameters cell set "
        '`table_name = "resume-VisitorCount"`, `days = 3`, `dry_run = False`, '
        '`confirm = "resume-VisitorCount"`, then run all'
    )


def test_a_time_hint_keeps_its_prose():
    exc = raised(check_times, "07_recover", {"reset_time": "yesterday"})
    assert for_notebook(exc.hint, parameters("07_recover")) == (
        "set `reset_time` in the parameters cell as UTC ISO 8601, e.g. 2026-05-01T12:00:00Z."
    )


# ---- types and notebooks -------------------------------------------------------------------


def test_the_parameters_type_decides_the_literal():
    text = "runbook run 03_set_count -p a 5 -p b 5 -p c NAME -p d true -p e x -p f 1.5"
    namespace = {
        "__session__": "03_set_count.ipynb",
        "a": "",  # a str parameter: quoted, even a number
        "c": None,
        "d": False,
        "__annotations__": {"c": "Optional[str]"},  # None: the annotation says str
    }
    assert for_notebook(text, namespace) == (
        'in the parameters cell set `a = "5"`, `b = 5`, `c = "NAME"`, `d = True`, `e = "x"`, '
        "`f = 1.5`, then run all"
    )


def test_the_annotation_of_a_none_parameter(ns):
    assert ns["expected_current"] is None
    text = "-p expected_current 4 -p reason ''"
    assert for_notebook(text, ns) == '`expected_current = 4`, `reason = ""`'


def test_the_current_notebook_comes_from_the_session_and_survives_a_copy(ns):
    command = "runbook run 03_set_count -p new_value 5"
    copy = {**ns, "__session__": "work/notebooks/03_set_count-Copy1.ipynb"}
    assert for_notebook(command, copy) == "in the parameters cell set `new_value = 5`, then run all"
    unknown = {k: v for k, v in ns.items() if k != "__session__"}
    assert for_notebook(command, unknown) == (
        "open 03_set_count and in its parameters cell set `new_value = 5`, then run all"
    )
    assert for_notebook(command, unknown, notebook="03_set_count").startswith("in the param")


def test_a_command_that_starts_a_sentence_starts_with_a_capital(ns):
    assert for_notebook("Refused. runbook run 01_init", ns) == "Refused. Open 01_init and run all"


# ---- the display -------------------------------------------------------------------------


def plain(lines: list[str]) -> str:
    return ANSI.sub("", "\n".join(lines))


def test_error_lines_in_a_notebook(ns):
    exc = raised(plan.plan_set, TARGET, None)
    text = plain(error_lines(exc, ns, in_notebook=True))
    assert text.splitlines() == [
        "InvalidInputError: new_value is required: the count to set. Nothing was written.",
        "Next step: set `new_value = N` in the parameters cell and run all; a reset to 0 is "
        "`new_value = 0`, `allow_decrease = True`.",
        labmessages.TB_NOTE,
    ]


def test_error_lines_headless_keep_the_text_exactly(ns):
    exc = raised(plan.plan_set, TARGET, None)
    text = plain(error_lines(exc, ns, in_notebook=False))
    assert text == f"InvalidInputError: {exc.args[0]}\nNext step: {exc.hint}"
    assert text.partition(": ")[2].replace("\n", " ") == str(exc)  # evalue, on two lines


def test_error_lines_of_an_error_without_a_hint(ns):
    exc = RunbookError("the sandbox is not running; run `runbook sandbox up`", hint="")
    assert plain(error_lines(exc, ns, in_notebook=False)) == f"RunbookError: {exc}"


class _KernelIPython:
    """What `interactive` reads of IPython inside a running kernel."""

    @staticmethod
    def get_ipython():
        return object()


def test_for_here_changes_nothing_headless_or_outside_a_kernel(ns, monkeypatch):
    text = "pass -p new_value N"
    monkeypatch.delenv("RUNBOOK_RUN_DIR", raising=False)
    assert not labmessages.interactive()  # pytest is no IPython kernel
    assert for_here(text, ns) == text
    monkeypatch.setitem(sys.modules, "IPython", _KernelIPython)  # in a kernel, as in a notebook
    assert for_here(text, ns) == "set `new_value = N` in the parameters cell and run all"
    monkeypatch.setenv("RUNBOOK_RUN_DIR", "/tmp/run")  # the runner's kernel: headless
    assert for_here(text, ns) == text


def test_interactive_needs_a_kernel_and_no_run_dir(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", _KernelIPython)
    monkeypatch.delenv("RUNBOOK_RUN_DIR", raising=False)
    assert labmessages.interactive()
    monkeypatch.setenv("RUNBOOK_RUN_DIR", "/tmp/run")
    assert not labmessages.interactive()


class FakeShell:
    """What install and the handler use of IPython's shell."""

    def __init__(self) -> None:
        self.user_ns: dict = {}
        self.registered: list = []
        self.shown: list = []
        self.call_pdb = False

    def set_custom_exc(self, exc_tuple, handler):
        self.registered.append((exc_tuple, handler))

    def _showtraceback(self, etype, value, stb):
        self.shown.append(("message", etype, stb))

    def showtraceback(self, exc_tuple=None, tb_offset=None):
        self.shown.append(("traceback", exc_tuple[0], None))


def test_install_registers_runbook_errors_only_and_twice_is_harmless():
    shell = FakeShell()
    labmessages.install(shell)
    labmessages.install(shell)
    assert shell.registered[0] == shell.registered[1]
    assert shell.registered[0][0] == (RunbookError,)
    labmessages.install()  # no IPython shell here: nothing to do, no error


def test_the_handler_shows_the_lines_and_falls_back_to_a_traceback(monkeypatch):
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        monkeypatch.setattr(sys, name, None, raising=False)  # the handler sets them, as IPython
    shell = FakeShell()
    labmessages.install(shell)
    handler = shell.registered[0][1]
    exc = InvalidInputError("bad", hint="pass -p new_value N")
    lines = handler(shell, InvalidInputError, exc, None)
    assert shell.shown == [("message", InvalidInputError, lines)]
    assert sys.last_value is exc  # %tb and %debug see the real frames

    class Unshowable(InvalidInputError):  # an error whose message itself fails to render
        def __str__(self) -> str:
            raise KeyError("a bug in the display")

    assert handler(shell, Unshowable, Unshowable("bad"), None) is None
    assert shell.shown[-1] == ("traceback", Unshowable, None)  # IPython's own display


# ---- any apply command, any values --------------------------------------------------------

TABLE_NAMES = st.from_regex(r"[A-Za-z0-9_.-]{3,40}", fullmatch=True)  # DynamoDB's
# any reason but backticks (they delimit the assignments here), line breaks included; "fixed." or
# "v1," (bare words to shlex, last in the command) keep their punctuation
REASONS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="`"),
    max_size=40,
)


@given(
    table=TABLE_NAMES,
    new_value=st.integers(0, 10**38 - 1),
    expected=st.none() | st.integers(0, 10**6),
    reason=REASONS | st.from_regex(r"[\w.,:]{0,8}[.,:]", fullmatch=True),
)
@settings(max_examples=200, deadline=None)
def test_every_apply_command_round_trips_as_python_literals(table, new_value, expected, reason):
    ns = parameters("03_set_count")
    command = auditlog.set_command(
        Target(table=table), new_value, expected_current=expected, reason=reason
    )
    rewritten = for_notebook(command, ns)
    assert rewritten.startswith("in the parameters cell set `") and rewritten.endswith(
        ", then run all"
    )
    pairs = re.findall(r"`(\w+) = ([^`]*)`", rewritten)
    got = {name: ast.literal_eval(literal) for name, literal in pairs}
    argv = shlex.split(command)
    wanted = {argv[i + 1]: argv[i + 2] for i in range(3, len(argv), 3)}
    assert {k: str(v) for k, v in got.items()} == wanted
    assert got["new_value"] == new_value and got["dry_run"] is False
    assert isinstance(got["table_name"], str) and isinstance(got["reason"], str)
