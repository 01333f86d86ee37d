"""Text edits that take a user's AWS credential settings out of a copy of their files.

Against the sandbox, a provider's `profile = "crc"` or `shared_config_files = [...]` makes
the AWS provider look for that profile on this machine ("failed to get shared config
profile, crc") before it ever reaches the moto server, and an `assume_role` would ask STS
for a role of the user's account. The sandbox's dummy keys travel in the environment, so in
the private copy every `provider "aws"` block, and an S3 backend that is itself in the
sandbox, loses those settings. Like hcledit, the edit works on the text: python-hcl2 says
where each block starts and ends, a scanner that knows strings, comments and heredocs finds
each setting inside it, and everything else stays byte for byte. Pure: no files, no AWS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from runbook_lib.errors import TerraformError
from runbook_lib.tf.hcledit import _walk, block_end, parse_hcl

# A provider's settings that name credentials, a profile, a role or the account: never
# wanted against the sandbox (moto takes any key pair; its account is 123456789012).
PROVIDER_CREDENTIAL_SETTINGS = frozenset(
    {
        "profile",
        "shared_config_files",
        "shared_credentials_files",
        "shared_credentials_file",  # the provider's name for it before v4
        "assume_role",
        "assume_role_with_web_identity",
        "access_key",
        "secret_key",
        "token",
        "allowed_account_ids",
        "forbidden_account_ids",
    }
)
# The S3 backend's: the same, plus its older top-level role settings.
BACKEND_CREDENTIAL_SETTINGS = PROVIDER_CREDENTIAL_SETTINGS | {
    "role_arn",
    "session_name",
    "external_id",
    "assume_role_duration_seconds",
    "assume_role_policy",
    "assume_role_policy_arns",
    "assume_role_tags",
    "assume_role_transitive_tag_keys",
}
# Either makes the S3 backend address a bucket by path.
PATH_STYLE = frozenset({"use_path_style", "force_path_style"})
_STATEMENT = re.compile(r'(?:dynamic\s+"([\w-]+)"\s*\{|([A-Za-z_][\w-]*)\s*(?:=(?!=)|\{))')


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    return offset


def _statements(text: str, open_brace: int) -> Iterable[tuple[int, int]]:
    """(start, end) of each argument or nested block directly inside the block whose `{` is
    at open_brace: start at its first character, end at its line's newline (or at the
    block's `}` on a one-line block). Comments and blank lines are not statements."""
    start: int | None = None
    brackets = 0
    for i, ch, depth in _walk(text, open_brace):
        if i == open_brace:
            continue
        if depth == 0 and ch == "}":  # the block's own closing brace
            if start is not None:
                yield start, i
            return
        if ch in "([":
            brackets += 1
        elif ch in ")]":
            brackets -= 1
        if start is None and not ch.isspace():
            start = i
        elif start is not None and ch == "\n" and depth == 1 and brackets == 0:
            yield start, i
            start = None


def setting_names(body: dict[str, Any]) -> set[str]:
    """The names of a parsed block's arguments and nested blocks, `dynamic` ones included."""
    dynamic = [name for d in body.get("dynamic") or [] for name in d]
    return {k for k in body if not k.startswith("__")} | set(dynamic)


def _name(text: str, start: int) -> str | None:
    m = _STATEMENT.match(text, start)
    return (m.group(1) or m.group(2)) if m else None


def strip_settings(text: str, open_brace: int, names: frozenset[str]) -> str:
    """The block at open_brace without its arguments and nested blocks (`dynamic` ones
    included) named in `names`; a statement on lines of its own goes with its lines (pure)."""
    out, cursor = [], 0
    for start, end in _statements(text, open_brace):
        if _name(text, start) not in names:
            continue
        line_start = text.rfind("\n", 0, start) + 1
        own_line = not text[line_start:start].strip() and text[end : end + 1] == "\n"
        cut_from, cut_to = (line_start, end + 1) if own_line else (start, end)
        out.append(text[cursor:cut_from])
        cursor = cut_to
    out.append(text[cursor:])
    return "".join(out)


def _open_brace(text: str, body: dict[str, Any], header: str, where: str) -> int:
    """The `{` of the block python-hcl2 says starts on body's first line."""
    start = _line_offset(text, body["__start_line__"])
    m = re.compile(rf"[ \t]*{header}\s*\{{").match(text, start)
    if m is None:
        raise TerraformError(
            f"{where}: a block does not start where HCL says (line {body['__start_line__']}).",
            hint="check that the file is valid Terraform (terraform validate), then run again.",
        )
    return m.end() - 1


def aws_providers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The `provider "aws"` blocks of a parsed file (pure)."""
    return [b["aws"] for b in doc.get("provider", []) if isinstance(b.get("aws"), dict)]


def provider_aliases(doc: dict[str, Any]) -> list[str | None]:
    """The alias of each `provider "aws"` block of a parsed file, None for the default."""
    return [p.get("alias") if isinstance(p.get("alias"), str) else None for p in aws_providers(doc)]


def neutralise_providers(text: str, where: str = "the file") -> str:
    """Every `provider "aws"` block of a file without its credential settings (pure)."""
    blocks = aws_providers(parse_hcl(text, where))
    # from the last block up, so the line numbers of the ones above stay true
    for body in sorted(blocks, key=lambda b: b["__start_line__"], reverse=True):
        if not PROVIDER_CREDENTIAL_SETTINGS & setting_names(body):
            continue
        brace = _open_brace(text, body, r'provider\s+"?aws"?', where)
        text = strip_settings(text, brace, PROVIDER_CREDENTIAL_SETTINGS)
    _check(text, where, lambda doc: [setting_names(p) for p in aws_providers(doc)])
    return text


def s3_backend(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The `backend "s3"` block of a parsed file, if it has one (pure)."""
    for block in doc.get("terraform", []):
        for backend in block.get("backend") or []:
            if isinstance(backend.get("s3"), dict):
                return backend["s3"]
    return None


def neutralise_backend(text: str, where: str = "the file") -> str:
    """The file's `backend "s3"` block (one in the sandbox: used as it is) without its
    credential settings, and addressing buckets by path as the sandbox needs (pure)."""
    body = s3_backend(parse_hcl(text, where))
    if body is None:
        return text
    brace = _open_brace(text, body, r'backend\s+"s3"', where)
    text = strip_settings(text, brace, BACKEND_CREDENTIAL_SETTINGS)
    if not PATH_STYLE & setting_names(body):
        # moto on 127.0.0.1 serves buckets by path only (`bucket.127.0.0.1` resolves nowhere)
        text = _insert(text, brace, "use_path_style = true")

    def left(doc: dict[str, Any]) -> list[set[str]]:
        return [setting_names(s3_backend(doc) or {})]

    _check(text, where, left, BACKEND_CREDENTIAL_SETTINGS)
    return text


def _insert(text: str, open_brace: int, setting: str) -> str:
    """`setting` added as the last line of the block at open_brace (pure)."""
    close = block_end(text, open_brace) - 1
    line_start = text.rfind("\n", 0, close) + 1
    indent = text[line_start:close]
    if indent.strip():  # `}` shares its line with the block's content
        return f"{text[:close]}\n  {setting}\n{text[close:]}"
    return (
        f"{text[:line_start]}{indent}  {setting}  # added by counter-runbook\n{text[line_start:]}"
    )


def _check(
    text: str,
    where: str,
    bodies: Any,
    names: frozenset[str] = PROVIDER_CREDENTIAL_SETTINGS,
) -> None:
    """The edited text still parses and holds none of `names` in the edited blocks."""
    left = set().union(*bodies(parse_hcl(text, f"{where} (edited)")), set()) & names
    if left:
        raise TerraformError(
            f"{where}: could not take {', '.join(sorted(left))} out of the AWS settings for "
            "the sandbox.",
            hint="remove them from the provider (or backend) block by hand, or set them "
            "from variables, then run again.",
        )
