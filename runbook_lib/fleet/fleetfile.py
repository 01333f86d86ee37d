"""The fleet file: the counters a fleet run looks at (TOML, kept in the repo, no secrets).

```toml
[[counter]]
name = "prod"
terraform_dir = "infra/environments/prod"   # relative to this file's folder

[[counter]]
name = "blog"
table_name = "siteVisits"
region = "ap-southeast-1"
profile = "ops"
```

Each entry takes the one counter model's fields under the names the notebooks already use,
plus `region` and `profile` (the AWS_REGION and AWS_PROFILE of that counter's runs) and
`confirm` (a write's per-counter confirmation). The whole file is checked before anything
runs and every problem is one line: a fleet file that can never work writes nothing.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError
from runbook_lib.redact import find_secrets

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - requirements.txt installs tomli on 3.10
    import tomli as tomllib

# Notebook parameters an entry may set: the counter model's fields, named as the notebooks
# name them. A run gets those its notebook declares.
TARGET_PARAMS = (
    "table_name",
    "key_name",
    "key_value",
    "range_key_value",
    "count_attribute",
    "terraform_dir",
    "var_files",
    "function_name",
    "api_id",
    "metric_namespace",
    "metric_name",
)
# Not parameters: the environment of that counter's runs (AWS_REGION, AWS_PROFILE).
ENV_KEYS = ("region", "profile")
ENTRY_KEYS = ("name", *TARGET_PARAMS, *ENV_KEYS, "confirm")
# An AWS region name: us-east-1, eu-central-2, ap-southeast-1, us-gov-west-1, cn-north-1
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


class FleetRefused(InvalidInputError):
    """Bad usage found before anything ran (exit 2): one line per problem."""

    hint = "fix the fleet file or the command, then run again; nothing ran, nothing was written."

    def __init__(self, problems: list[str], source: str = "the fleet run") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(" ".join(self.problems))

    def lines(self) -> list[str]:
        """Each problem on its line, then what it means and what to do."""
        many = f"{len(self.problems)} problems" if len(self.problems) > 1 else "1 problem"
        return [*self.problems, f"{many} in {self.source}. Next step: {self.hint}"]


@dataclass(frozen=True)
class Entry:
    """One [[counter]] of the fleet file, checked."""

    position: int  # 1-based, in the file's order
    name: str
    params: dict[str, str] = field(default_factory=dict)  # TARGET_PARAMS given
    region: str | None = None
    profile: str | None = None
    confirm: str | None = None

    @property
    def label(self) -> str:
        """How a message names it: `counter 2 ("blog")`."""
        return f'counter {self.position} ("{self.name}")'


@dataclass(frozen=True)
class Fleet:
    path: Path  # the fleet file
    entries: tuple[Entry, ...]

    @property
    def folder(self) -> Path:
        """What relative paths in the file are relative to."""
        return self.path.resolve().parent

    @property
    def shown(self) -> str:
        return paths.shown(self.path)


def load(path: str | Path) -> Fleet:
    """Read and check the fleet file: structure, then the folders it names."""
    path = Path(path).expanduser()
    shown = paths.shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FleetRefused([f"{shown}: no such file."], shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise FleetRefused([f"{shown} cannot be read: {why}."], shown) from None
    entries = parse(text, shown)
    fleet = Fleet(path, entries)
    problems = check_folders(fleet)
    if problems:
        raise FleetRefused(problems, shown)
    return fleet


def parse(text: str, source: str = "the fleet file") -> tuple[Entry, ...]:
    """The entries of a fleet file's text; FleetRefused listing every problem otherwise.
    Pure: the folders it names are checked by `check_folders`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FleetRefused([f"{source} is not valid TOML: {exc}."], source) from None
    problems = [
        f"{source}: unknown top-level key {key!r}: a fleet file holds [[counter]] entries only."
        for key in sorted(set(data) - {"counter"})
    ]
    raw = data.get("counter")
    if not isinstance(raw, list) or not raw:
        problems.append(
            f"{source} lists no counters: add a [[counter]] entry with a name and a "
            "table_name or terraform_dir for each."
        )
        raw = []
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(raw, 1):
        entry, found = _entry(position, item)
        problems += found
        if entry is None:
            continue
        if entry.name in seen:
            problems.append(
                f"{entry.label}: the name is used by counter {seen[entry.name]} too: every "
                "counter needs a name of its own (its row and report folder)."
            )
        seen.setdefault(entry.name, position)
        entries.append(entry)
    if problems:
        raise FleetRefused(problems, source)
    return tuple(entries)


def _entry(position: int, item: Any) -> tuple[Entry | None, list[str]]:
    """One [[counter]] table: the entry, or None, and its problems."""
    if not isinstance(item, dict):
        return None, [f"counter {position} is not a table: write it as [[counter]] with keys."]
    name = item.get("name")
    label = f'counter {position} ("{name}")' if isinstance(name, str) and name else ""
    label = label or f"counter {position}"
    problems = [_unknown(label, key) for key in item if key not in ENTRY_KEYS]
    values: dict[str, str] = {}
    bad = set()  # keys whose value was refused: said once, not again as missing
    for key in ENTRY_KEYS:
        if key in item:
            value, problem = _value(label, key, item[key])
            if problem:
                problems.append(problem)
                bad.add(key)
            elif value:
                values[key] = value
    if "name" not in values and "name" not in bad:
        problems.append(f'{label} has no name: give it one (name = "prod"), for its row.')
    if not {"table_name", "terraform_dir"} & (set(values) | bad):
        problems.append(
            f"{label} names no table and no stack: give table_name (the DynamoDB table) or "
            "terraform_dir (the folder you run terraform in)."
        )
    if values.get("region") and not REGION.match(values["region"]):
        problems.append(
            f"{label}: region {values['region']!r} is not an AWS region name (e.g. eu-west-1)."
        )
    if problems:
        return (Entry(position, values["name"]) if "name" in values else None), problems
    return Entry(
        position=position,
        name=values["name"],
        params={k: v for k, v in values.items() if k in TARGET_PARAMS},
        region=values.get("region"),
        profile=values.get("profile"),
        confirm=values.get("confirm"),
    ), []


def _unknown(label: str, key: str) -> str:
    close = difflib.get_close_matches(str(key), ENTRY_KEYS, n=1)
    known = f"did you mean {close[0]!r}?" if close else f"the keys are: {', '.join(ENTRY_KEYS)}."
    return f"{label}: unknown key {key!r}; {known}"


def _value(label: str, key: str, raw: Any) -> tuple[str, str]:
    """(the value as the notebooks take it, or "" for none; a problem, or "")."""
    if key == "var_files" and isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        raw = ",".join(v.strip() for v in raw if v.strip())  # the notebooks' comma form
    if not isinstance(raw, str):
        kind = "a string or a list of strings" if key == "var_files" else "a string"
        return "", f"{label}: {key} must be {kind}, got {raw!r}."
    value = raw.strip()
    if find_secrets(value):
        return "", (
            f"{label}: the value of {key} looks like a credential. A fleet file holds no "
            "secrets: credentials come from the standard AWS chain (profile = NAME)."
        )
    if key == "profile" and any(c.isspace() for c in value):
        return "", f"{label}: profile {value!r} is not a profile name."
    return value, ""


def stack_folder(fleet: Fleet, entry: Entry) -> Path | None:
    """The entry's terraform_dir, relative to the fleet file's folder when not absolute."""
    given = entry.params.get("terraform_dir")
    if not given:
        return None
    path = Path(given).expanduser()
    return path if path.is_absolute() else fleet.folder / path


def check_folders(fleet: Fleet) -> list[str]:
    """A stack folder that is not one, and var files that are not there, can never resolve:
    one problem each."""
    from runbook_lib.tf.varfiles import parse_var_files

    problems = []
    for entry in fleet.entries:
        folder = stack_folder(fleet, entry)
        if folder is None:
            continue
        given = entry.params["terraform_dir"]
        if not folder.is_dir():
            why = "is a file, not a folder" if folder.exists() else "does not exist"
            problems.append(
                f"{entry.label}: terraform_dir {given!r} {why} (relative paths are read from "
                f"the fleet file's folder, {paths.shown(fleet.folder)})."
            )
        elif not any(folder.glob("*.tf")):
            problems.append(f"{entry.label}: terraform_dir {given!r} holds no .tf files.")
        else:
            try:
                parse_var_files(entry.params.get("var_files"), folder)
            except InvalidInputError as exc:
                problems.append(f"{entry.label}: {str(exc).split(' Next step:')[0]}")
    return problems
