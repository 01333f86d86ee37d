"""Read a restored table back against the export it was restored from.

Consistent BatchGetItem reads, 100 keys at a time. Every item must be exactly as in the
export, except the counter item, which may have moved UP meanwhile (visits keep coming):
it counts as matching when only its count grew.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_lib.aws import batch
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.errors import RestoreVerificationError
from runbook_lib.formats.countvalue import grew
from runbook_lib.formats.dynamojson import (
    item_digest,
    item_from_json,
    item_to_json,
    key_of,
    key_text,
)
from runbook_lib.formats.exportfile import DIGEST_MODULUS, Manifest, digest_hex
from runbook_lib.formats.exportread import iter_export

Item = dict[str, Any]


def _read(
    ddb: DynamoDBClient, table: str, manifest: Manifest, wanted: list[Item]
) -> dict[str, Item]:
    """The table's items (JSON format) for the keys of `wanted`, by key text."""
    keys = [item_from_json(key_of(o, manifest.key_names)) for o in wanted]
    got = (item_to_json(item) for item in batch.get_items(ddb, table, keys))
    return {key_text(key_of(o, manifest.key_names)): o for o in got}


def _only_count_grew(want: Item, got: Item, attribute: str) -> bool:
    rest_w = {k: v for k, v in want.items() if k != attribute}
    rest_g = {k: v for k, v in got.items() if k != attribute}
    # the same count type (N, or S for a string count), risen or equal
    return rest_w == rest_g and grew(want.get(attribute), got.get(attribute))


def check_sample(
    ddb: DynamoDBClient,
    table: str,
    manifest: Manifest,
    sample: list[Item],
    *,
    counter_key: str | None,
    count_attribute: str,
) -> int:
    """Read back the sampled items: each must be exactly as in the export. Returns the
    number checked."""
    expected = {key_text(key_of(o, manifest.key_names)): o for o in sample}
    found: dict[str, Item] = {}
    for chunk in batch.chunks(list(expected.values()), batch.MAX_BATCH_GET):
        found.update(_read(ddb, table, manifest, chunk))
    wrong = []
    for key, want in expected.items():
        got = found.get(key)
        if got is not None and key == counter_key and _only_count_grew(want, got, count_attribute):
            continue
        if got is None or item_digest(got) != item_digest(want):
            wrong.append(key)
    if wrong:
        raise RestoreVerificationError(
            f"Read back {len(expected)} restored items from {table}: {len(wrong)} missing or "
            f"different, including {', '.join(wrong[:3])}.",
            hint="re-run the restore with read_back='all' to check every item; puts are "
            "idempotent.",
        )
    return len(expected)


def check_all(
    ddb: DynamoDBClient,
    table: str,
    path: Path,
    manifest: Manifest,
    *,
    counter_key: str | None,
    count_attribute: str,
) -> int:
    """Read back every key of the export and compare count and digest with the manifest.
    Returns the number of items read back."""
    count, digest = 0, 0
    mismatched: list[str] = []  # a few of the differing keys, as key text
    for chunk in batch.chunks(iter_export(path, manifest), batch.MAX_BATCH_GET):
        expected = {key_text(key_of(o, manifest.key_names)): o for o in chunk}
        for key, got in _read(ddb, table, manifest, chunk).items():
            want = expected.get(key)
            if want is None:
                continue
            if key == counter_key and _only_count_grew(want, got, count_attribute):
                got = want
            count += 1
            got_hash = item_digest(got)
            digest = (digest + got_hash) % DIGEST_MODULUS
            if got_hash != item_digest(want) and len(mismatched) < 3:
                mismatched.append(key)
    if count != manifest.item_count or digest_hex(digest) != manifest.content_digest:
        detail = f"; differing keys include {', '.join(mismatched)}" if mismatched else ""
        raise RestoreVerificationError(
            f"Read back {count} of {manifest.item_count} exported items from {table} and their "
            f"digest does not match the export{detail}."
        )
    return count
