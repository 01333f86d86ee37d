"""Range and presence checks on `-p` parameters, made before a kernel starts.

The notebooks check their inputs too (plain `papermill` runs reach only those), but a value
that can never be right (a negative count, a 41-digit one, a history window CloudWatch does
not keep, a set without the value to set) is bad usage: `runbook run` refuses it here, exit 2,
before a kernel exists or a report folder is made.

Imports stay light (no boto3, no pandas): this runs on every `runbook run`.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_lib import paths
from runbook_lib.errors import InvalidInputError
from runbook_lib.tf.varfiles import parse_var_files

# Mirrors counter.MAX_COUNT and history.MAX_HISTORY_DAYS (tests hold them equal); not
# imported from there, because those modules import boto3 and pandas.
MAX_COUNT = 10**38 - 1  # DynamoDB numbers hold up to 38 significant digits
MAX_HISTORY_DAYS = 455  # CloudWatch keeps 1-hour points for 455 days
_MISSING = ("", "None", "none", "null")
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


@dataclass(frozen=True)
class Rule:
    """A whole-number parameter: its range, and whether the run needs it at all."""

    low: int
    high: int
    why: str  # what the range means, for the message
    required: str = ""  # non-empty: the parameter must be given; says what to pass


COUNT = Rule(0, MAX_COUNT, "a count: 0 or more, at most 38 digits")
RULES: dict[str, dict[str, Rule]] = {
    "03_set_count": {
        "new_value": Rule(
            COUNT.low,
            COUNT.high,
            COUNT.why,
            required=(
                "the count to set. Pass -p new_value N (a dry run unless dry_run False); "
                "a reset to 0 is -p new_value 0 -p allow_decrease True"
            ),
        ),
        "expected_current": COUNT,
    },
    "06_history": {
        "days": Rule(
            1,
            MAX_HISTORY_DAYS,
            f"CloudWatch keeps metric data for {MAX_HISTORY_DAYS} days",
        ),
    },
    "07_recover": {
        "days": Rule(
            1,
            MAX_HISTORY_DAYS,
            f"CloudWatch keeps metric data for {MAX_HISTORY_DAYS} days",
        ),
    },
}


def check(notebook: str, params: dict[str, Any], declared: set[str] | None = None) -> None:
    """Refuse a missing required parameter or a whole number out of range (InvalidInputError).

    Values may be CLI strings or typed values; a string that is not a whole number is left
    for the type check (`coerce`), which names the expected type. With `declared`
    (the notebook's parameter names), a run that passes an unknown name is left for the
    unknown-name error: `-p new_valeu 5` is a typo to point at, not a missing new_value.
    """
    typo = declared is not None and not set(params) <= declared
    for name, rule in RULES.get(notebook, {}).items():
        value = params.get(name)
        if _missing(value):
            if rule.required and not typo:
                raise InvalidInputError(
                    f"{notebook} needs {name}, {rule.required}. Nothing ran.",
                    hint=f"see `runbook params {notebook}`; nothing was written.",
                )
            continue
        number = _whole(value)
        if number is not None:
            _in_range(name, number, rule)
    check_times(notebook, params)
    if declared is None or "terraform_dir" in declared:
        check_terraform_dir(params.get("terraform_dir"))
        check_var_files(params.get("var_files"), params.get("terraform_dir"))


def check_terraform_dir(value: Any) -> None:
    """A stack folder that is none (missing, a file, no `.tf` files) is bad usage: refused
    here, exit 2, not as a failed cell with a report folder. Resolved as the notebooks do
    (`stackread.resolve_dir`: as given, else under the project); messages name the path as
    given, never where it was looked for on this machine."""
    if _missing(value) or not isinstance(value, str):
        return  # empty: the notebook's default stack (terraform/), checked where it is used
    given = Path(value).expanduser()
    path = paths.stack_folder(value)
    if not path.exists() and given.exists():
        path = given  # a file where the folder was meant: say what is there
    hint = (
        "pass the folder you run terraform in, the one holding its .tf files "
        "(-p terraform_dir PATH, relative to the working directory or the project)."
    )
    if not path.exists():
        why = "is not a folder: no such file or folder"
    elif not path.is_dir():
        why = "is not a folder: it is a file"
    elif not any(path.glob("*.tf")):
        why = "holds no .tf files: it is not a Terraform stack"
    else:
        return
    raise InvalidInputError(f"terraform_dir {value!r} {why}. Nothing ran.", hint=hint)


def check_var_files(value: Any, terraform_dir: Any) -> None:
    """-p var_files naming a file that is not there is bad usage too (read as the notebook
    reads it, relative to the terraform_dir given); checked by the notebook when no
    terraform_dir is given here (its default folder)."""
    if _missing(value) or _missing(terraform_dir) or not isinstance(terraform_dir, str):
        return
    parse_var_files(value, paths.stack_folder(terraform_dir))


def coerce(name: str, raw: Any, declared: dict[str, Any], notebook: str = "NAME") -> Any:
    """Turn a CLI string into the parameter's declared type (papermill's
    `inferred_type_name`); an InvalidInputError in plain words if it can't."""
    if not isinstance(raw, str):
        return raw
    kind = (declared.get("inferred_type_name") or "").strip("\"'").replace(" ", "")
    optional = kind.startswith("Optional[")
    base = kind[len("Optional[") : -1] if optional else kind
    if optional and raw.strip() in _MISSING:
        return None
    try:
        if base == "bool":
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError
        if base == "int":
            return int(raw.strip())
        if base == "float":
            return float(raw.strip())
    except ValueError:
        # the words a reader uses, not the annotation ("must be Optional[int]" helps nobody)
        words, example = _TYPE_WORDS[base]
        raise InvalidInputError(
            f"{name} must be {words}, got {raw!r}. Nothing ran.",
            hint=f"pass {words}, e.g. -p {name} {example}; `runbook params {notebook}` lists "
            "every parameter with its type.",
        ) from None
    return raw


# A declared type in plain words, with an example value for the message's next step.
_TYPE_WORDS = {
    "int": ("a whole number", "100"),
    "float": ("a number", "1.5"),
    "bool": ("True or False", "True"),
}


# Parameters holding a UTC time (ISO 8601, "Z" allowed); empty means "not given".
TIMES: dict[str, tuple[str, ...]] = {
    "07_recover": ("reset_time",),
    "04_backup_restore": ("restore_time",),
}


def check_times(notebook: str, params: dict[str, Any]) -> None:
    """A time that is not one (`yesterday`, `2024-13-01`) is bad usage, refused here."""
    for name in TIMES.get(notebook, ()):
        value = params.get(name)
        if _missing(value) or not isinstance(value, str):
            continue
        try:
            dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"{name} {value!r} is not a time. Nothing ran.",
                hint=f"pass -p {name} as UTC ISO 8601, e.g. 2026-05-01T12:00:00Z.",
            ) from None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in _MISSING)


def _whole(value: Any) -> int | None:
    """The value as an int when it is one; None otherwise. CLI text is read as `coerce`
    reads it for an int parameter (`int(text.strip())`: "1_000" is 1000), so `check` says
    the same of the text as it would of the coerced value, and `runbook run` checks once,
    before the kernel starts."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:  # not a whole number (or past int()'s 4300 digits): `coerce` says
            return None
    return None


def _in_range(name: str, number: int, rule: Rule) -> None:
    hint = f"pass -p {name} with a whole number from {rule.low} to {_short(rule.high)}."
    if number > MAX_COUNT and rule.high == MAX_COUNT:
        raise InvalidInputError(
            f"{name} has {len(str(number))} digits; DynamoDB numbers hold at most 38. Nothing ran.",
            hint=hint,
        )
    if number < 0 and rule.low == 0:
        raise InvalidInputError(
            f"{name} must not be negative, got {number}. Nothing ran.", hint=hint
        )
    if not rule.low <= number <= rule.high:
        raise InvalidInputError(
            f"{name} must be from {rule.low} to {_short(rule.high)} ({rule.why}), "
            f"got {number}. Nothing ran.",
            hint=hint,
        )


def _short(number: int) -> str:
    """10**38 - 1 as '10^38 - 1' (a 38-digit number helps nobody read a message)."""
    return "10^38 - 1" if number == MAX_COUNT else str(number)


def declared_names(path: Path) -> set[str] | None:
    """The names the notebook's `parameters` cell assigns, read without papermill (which
    takes ~0.4 s to import); None when the cell cannot be read (the full check follows)."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
        source = next(
            "".join(c["source"])
            for c in cells
            if "parameters" in c.get("metadata", {}).get("tags", [])
        )
        tree = ast.parse(source)
    except (OSError, ValueError, KeyError, TypeError, StopIteration, SyntaxError):
        return None
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names
