"""The table export files (formats/exportfile.py, exportread.py) without a server."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest

from runbook_lib.errors import BackupFileError
from runbook_lib.formats import exportfile, exportread


class _Discard(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return len(data)


def _pages(n: int, per_page: int = 100):
    for start in range(0, n, per_page):
        yield [
            {"stat": {"S": f"key-{i:06d}"}, "v": {"N": str(i)}, "pad": {"S": "x" * 200}}
            for i in range(start, min(n, start + per_page))
        ]


def test_writer_holds_one_page_not_the_table():
    tracemalloc.start()
    try:
        written = exportfile.write_items(_pages(5000), _Discard())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    held = sum(len(json.dumps(p)) for p in _pages(5000))  # ~1.4 MB of JSON alone
    assert written.item_count == 5000
    assert peak < 600_000, f"peak {peak} bytes: the writer accumulates items"
    assert peak < held / 2


def test_a_non_export_path_points_to_item_restore(tmp_path):
    with pytest.raises(BackupFileError, match="restore with kind=item"):
        exportread.verify_export(tmp_path / "x.json")
