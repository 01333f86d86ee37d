"""Secret detection: parameters are refused and reports are scanned with the same patterns."""

from __future__ import annotations

import re

from runbook_lib.errors import InvalidInputError

# AWS access key ids, secret keys next to their name, session tokens, private keys.
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key['\"]?\s*[:=]\s*['\"]?[A-Za-z0-9/+=\-]{16,}"
    ),
    "AWS session token": re.compile(
        r"(?i)aws_?session_?token['\"]?\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{16,}"
    ),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
SECRET_PARAM_NAMES = re.compile(r"(?i)(secret|password|passwd|token|access_?key|credential)")


def find_secrets(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Names of the secret patterns (and literal extra strings) found in text."""
    found = [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    found += [f"literal {s[:4]}…" for s in extra if s and s in text]
    return found


def refuse_secret_parameters(params: dict[str, object]) -> None:
    """Secrets never go into a notebook parameter: papermill writes parameters into the
    executed notebook and the HTML report."""
    for name, value in params.items():
        if SECRET_PARAM_NAMES.search(name):
            raise InvalidInputError(
                f"Parameter {name!r} looks like a secret; secrets are never passed as "
                "parameters because they would be written into the report.",
                hint="use the standard AWS chain (AWS_PROFILE or environment) instead.",
            )
        if isinstance(value, str) and find_secrets(value):
            raise InvalidInputError(
                f"The value of parameter {name!r} looks like a credential; refusing to write "
                "it into the report.",
                hint="use the standard AWS chain (AWS_PROFILE or environment) instead.",
            )
