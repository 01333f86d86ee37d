"""Fleet entries to runs, and the checks a fleet run makes on them before anything runs.

An entry that names a stack and no item (no key_value) becomes one run per counter item the
stack manages (`stackread.read_stack`: for_each and count instances too), each with that
item's table, key and count attribute, so several counters in one stack each get a row. A
stack that manages no item (already migrated, or unreadable here) stays one run: the run
resolves its table from the stack as `runbook run` would, and says what it found.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook_lib.fleet.fleetfile import TARGET_PARAMS, Entry, Fleet, stack_folder
from runbook_lib.tf.stackmodel import count_attributes

# Keys an AWS profile replaces: boto3 takes keys from the environment before AWS_PROFILE,
# so an entry's profile would silently not be used while they are set.
ENV_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class RunSpec:
    """One run of the fleet: one counter."""

    name: str  # its row's name: the entry's, or "entry[key]" for one of a stack's items
    slug: str  # its folder under the fleet's
    entry: Entry
    params: dict[str, str] = field(default_factory=dict)  # target parameters, all of them
    table: str | None = None  # the table, when known before the run (a write's confirm)

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The run's environment: `base` with the entry's region and profile."""
        env = dict(base)
        if self.entry.region:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = self.entry.region
        if self.entry.profile:
            env["AWS_PROFILE"] = self.entry.profile
            for key in ENV_CREDENTIALS:
                env.pop(key, None)
        return env

    @property
    def region(self) -> str | None:
        """The region the run is told (the stack's own provider region still wins)."""
        return (
            self.entry.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )


def expand(fleet: Fleet) -> list[RunSpec]:
    """Every run of the fleet, in the file's order; folder names unique."""
    specs = [s for entry in fleet.entries for s in expand_entry(fleet, entry)]
    used: set[str] = set()
    out = []
    for spec in specs:
        slug, n = spec.slug, 1
        while slug.lower() in used:  # "a b" and "a-b" share a folder name otherwise
            n += 1
            slug = f"{spec.slug}-{n}"
        used.add(slug.lower())
        out.append(RunSpec(spec.name, slug, spec.entry, spec.params, spec.table))
    return out


def expand_entry(fleet: Fleet, entry: Entry) -> list[RunSpec]:
    """The entry's runs: one, or one per counter item of the stack it names."""
    params, table = dict(entry.params), entry.params.get("table_name")
    folder = stack_folder(fleet, entry)
    if folder is None:
        return [RunSpec(entry.name, slugify(entry.name), entry, params, table)]
    params["terraform_dir"] = str(folder.resolve())  # the fleet file's folder, not the cwd
    if entry.params.get("var_files"):  # found as load() found them, whatever the run's cwd
        from runbook_lib.tf.varfiles import parse_var_files

        files = parse_var_files(entry.params["var_files"], folder)
        params["var_files"] = ",".join(str(f) for f in files)
    if entry.params.get("key_value") or entry.params.get("range_key_value"):
        return [RunSpec(entry.name, slugify(entry.name), entry, params, table)]
    items, tables = stack_items(folder, entry.params.get("var_files"), table)
    if not items:  # the run resolves the counter from the stack as `runbook run` does
        only = next(iter(tables)) if len(tables) == 1 and not table else table
        return [RunSpec(entry.name, slugify(entry.name), entry, params, only)]
    if len(items) == 1:
        return [_item_run(entry, entry.name, params, items[0][1])]
    return [_item_run(entry, f"{entry.name}[{label}]", params, found) for label, found in items]


def _item_run(entry: Entry, name: str, params: dict[str, str], item: dict[str, str]) -> RunSpec:
    return RunSpec(name, slugify(name), entry, {**params, **item}, item["table_name"])


Item = tuple[str, dict[str, str]]  # (label, the parameters that address the item)


def stack_items(folder: Any, var_files: str | None, table: str | None) -> tuple[list[Item], set]:
    """(the counter items the stack manages, as parameters; the stack's table names).
    An item that writes no count is not a counter; items of `table` only, when given."""
    facts = _read(folder, var_files)
    if facts is None:
        return [], set()
    found, seen = [], set()
    for f in facts.findings:
        if not (f.key and f.table and f.hash_key in f.key) or (table and f.table != table):
            continue
        # numbers, or strings holding a count (a site that writes str(n)): the model's rule
        counts = count_attributes(f.item or f.recorded, set(f.key))
        ident = (f.table, repr(sorted(f.key.items())))
        if not counts or ident in seen:
            continue
        seen.add(ident)
        item = {"table_name": f.table, "key_value": _plain(f.key[f.hash_key])}
        if f.range_key and f.range_key in f.key:
            item["range_key_value"] = _plain(f.key[f.range_key])
        if len(counts) == 1:
            item["count_attribute"] = counts[0]
        found.append((f.table, f.key_label, item))
    several = len({t for t, _, _ in found}) > 1  # the same key in two tables: name both
    items = [(f"{t} {label}" if several else label, item) for t, label, item in found]
    return items, facts.table_names()


def _read(folder: Any, var_files: str | None) -> Any:
    """The stack's facts, or None when it cannot be read here: then the run itself reads it
    and its row says what is wrong, rather than the whole fleet refusing."""
    from runbook_lib.tf.stackread import read_stack
    from runbook_lib.tf.varfiles import parse_var_files

    try:
        files = parse_var_files(var_files, folder)
        return read_stack(folder, var_files=files)
    except Exception:  # any reading error: reported by the run, in its row
        return None


def _plain(value: Any) -> str:
    """{"N": "0"} -> "0": a key value as `-p key_value` takes it."""
    return str(next(iter(value.values()))) if isinstance(value, dict) and value else str(value)


def slugify(name: str) -> str:
    """A folder name for a row: letters, digits, dot, dash and underscore."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "counter"


# ---- before anything runs: the fleet-wide parameters and the writes -------------------------

_FALSE = {"false", "0", "no", "n", "off"}  # paramcheck's words for False


def check_params(notebook: str, declared: set[str], fleet_params: Mapping[str, Any]) -> list[str]:
    """A notebook that takes no counter, and -p values that belong to one counter."""
    problems = []
    if not {"table_name", "terraform_dir"} <= declared:
        problems.append(
            f"{notebook} takes no counter (no table_name and terraform_dir parameters): a "
            "fleet runs a notebook once per counter (02_status, 06_history, 07_recover, ...)."
        )
    for key in fleet_params:
        if key in TARGET_PARAMS:
            problems.append(
                f"-p {key}: {key} belongs to one counter: set it in the fleet file's entries "
                "(one -p value would point every run at the same counter)."
            )
        elif key == "confirm":
            problems.append(
                "-p confirm: a fleet has no blanket confirm. A write is confirmed per counter: "
                'confirm = "<its table>" in the entry of each counter it writes to.'
            )
    return problems


def writes(declared: set[str], fleet_params: Mapping[str, Any]) -> bool:
    """Whether the runs would write: a notebook with confirm and dry_run, dry_run False."""
    if not {"confirm", "dry_run"} <= declared:
        return False
    value = fleet_params.get("dry_run", True)
    return value is False or str(value).strip().lower() in _FALSE


def check_writes(notebook: str, specs: list[RunSpec]) -> list[str]:
    """Each write confirmed by its own counter's entry: confirm equal to that counter's
    table (known before the run, from table_name or the stack)."""
    problems = []
    for spec in specs:
        confirm, table, label = spec.entry.confirm, spec.table, spec.entry.label
        shown = f'"{table}"' if table else '"<its table>"'
        if not confirm:
            problems.append(
                f"{spec.name}: {notebook} with dry_run False writes to this counter, and "
                f"{label} has no confirm: add confirm = {shown} to it (no fleet-wide confirm)."
            )
        elif table is None:
            problems.append(
                f"{spec.name}: its table is not known before the run (its stack names none "
                f"here), so confirm cannot be checked: add table_name to {label}."
            )
        elif confirm != table:
            problems.append(
                f"{spec.name}: confirm {confirm!r} in {label} is not this counter's table "
                f"{table!r}: a write is confirmed with the table it writes to."
            )
    return problems


def run_parameters(
    spec: RunSpec, declared: set[str], fleet_params: Mapping[str, Any], writing: bool
) -> dict[str, Any]:
    """What `runbook run` is given for this counter: the entry's parameters its notebook
    takes, the fleet-wide -p values, and the entry's confirm for a write."""
    params: dict[str, Any] = {k: v for k, v in spec.params.items() if k in declared}
    params.update(fleet_params)
    if writing and spec.entry.confirm:
        params["confirm"] = spec.entry.confirm
    return params
