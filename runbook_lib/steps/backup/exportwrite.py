"""Write the items of a checked export into a table: the bulk of a table restore.

25 items per BatchWriteItem (aws/batch.py retries what DynamoDB leaves unprocessed), several
calls in flight (a single round trip leaves both ends idle half the time), and never a queued
batch, so the first failure stops the restore at once. The file's bytes are hashed as they
are read: they must still be the ones the export's manifest describes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_lib.aws import batch
from runbook_lib.aws.types import DynamoDBClient
from runbook_lib.errors import RestoreVerificationError
from runbook_lib.formats.dynamojson import decode_item, key_of, key_text
from runbook_lib.formats.exportfile import HashingReader, Manifest
from runbook_lib.formats.exportread import iter_lines

Item = dict[str, Any]


@dataclass
class Written:
    """What the writers did: items and batches acknowledged, retry rounds for unprocessed
    items, and a sample of the written items (JSON format) for the read-back."""

    items: int = 0
    batches: int = 0
    retries: int = 0
    sample: list[Item] = field(default_factory=list)


class _Reservoir:
    """A uniform sample of up to `size` items from a stream of unknown length (Algorithm R),
    kept in `into`. Seeded by the file, so the same file samples the same keys."""

    def __init__(self, size: int, seed: str, into: list[Item]) -> None:
        self.size, self.items, self.seen = size, into, 0
        self.pick = random.Random(seed)

    def add(self, item: Item) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        elif self.size and (slot := self.pick.randrange(self.seen)) < self.size:
            self.items[slot] = item


class _InFlight:
    """BatchWriteItem calls running on a thread pool; each finished call is added to `done`
    and reported to `on_batch` (its item count)."""

    def __init__(
        self, pool: ThreadPoolExecutor, done: Written, on_batch: Callable[[int], None]
    ) -> None:
        self.pool, self.done, self.on_batch = pool, done, on_batch
        self.futures: set[Future[tuple[int, int]]] = set()

    def submit(self, ddb: DynamoDBClient, table: str, chunk: list[Item]) -> None:
        self.futures.add(self.pool.submit(_put_batch, ddb, table, chunk))

    def settle(self, until: int) -> None:
        """Collect finished calls until at most `until` are in flight; the first failure is
        raised (and stops the restore)."""
        while len(self.futures) > until:
            finished, _ = wait(self.futures, return_when=FIRST_COMPLETED)
            for future in finished:
                self.futures.discard(future)
                count, retries = future.result()
                self.done.items += count
                self.done.batches += 1
                self.done.retries += retries
                self.on_batch(count)

    @contextmanager
    def stopping_on_error(self) -> Iterator[None]:
        """On a failure, queued batches are not sent; on any exit, nothing is left writing."""
        try:
            yield
        except BaseException:
            for future in self.futures:
                future.cancel()
            raise
        finally:
            wait(self.futures)


def _put_batch(ddb: DynamoDBClient, table: str, chunk: list[Item]) -> tuple[int, int]:
    """(items written, retry rounds) for one batch of JSON-format items."""
    return len(chunk), batch.put_items(ddb, table, [decode_item(o) for o in chunk])


def write_export(
    ddb: DynamoDBClient,
    table: str,
    data_path: Path,
    manifest: Manifest,
    *,
    skip_key: str | None,
    writers: int,
    sample_size: int,
    on_batch: Callable[[int], None],
) -> Written:
    """Every item of the export but `skip_key` (the counter item, written on its own),
    `writers` calls in flight; keeps a sample of `sample_size` written items."""
    done = Written()
    sample = _Reservoir(sample_size, manifest.sha256, done.sample)
    with (
        open(data_path, "rb") as raw,
        ThreadPoolExecutor(max_workers=writers, thread_name_prefix=f"restore-{table}") as pool,
    ):
        reader = HashingReader(raw)
        flight = _InFlight(pool, done, on_batch)
        with flight.stopping_on_error():
            items = iter_lines(reader, data_path, manifest)
            kept = (o for o in items if skip_key is None or _key(o, manifest) != skip_key)
            for chunk in batch.chunks(kept, batch.MAX_BATCH_WRITE):
                for o in chunk:
                    sample.add(o)
                flight.settle(until=writers - 1)  # never a queued batch
                flight.submit(ddb, table, chunk)
            reader.drain()
            flight.settle(until=0)
    if reader.sha.hexdigest() != manifest.sha256:
        raise RestoreVerificationError(
            f"{data_path.name} changed while it was being restored (its sha256 no longer "
            "matches the manifest); the table may hold a mix of both versions.",
            hint="restore again from an export that is not being modified.",
        )
    return done


def _key(item: Item, manifest: Manifest) -> str:
    return key_text(key_of(item, manifest.key_names))
