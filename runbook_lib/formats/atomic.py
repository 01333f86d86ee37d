"""Files written completely or not at all: the one atomic writer.

A hidden temp file in the same folder (`.NAME.*.partial`), fsynced, then renamed over the
final name (os.replace) and the folder fsynced, so a crash never leaves a half-written file
under the final name and a finished one survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

TEMP_SUFFIX = ".partial"


@contextlib.contextmanager
def atomic_file(final: Path, *, keep_mode: bool = False) -> Iterator[BinaryIO]:
    """A binary handle on a temp file that becomes `final` when the block ends without an
    error (and is removed when it does not). keep_mode: keep the mode of the file replaced."""
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as raw:
            yield raw
            raw.flush()
            os.fsync(raw.fileno())
        if keep_mode and final.exists():
            shutil.copymode(final, tmp)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(final.parent)


def write_atomic(path: Path, data: bytes, *, keep_mode: bool = False) -> None:
    """Write `data` to `path` completely or not at all."""
    with atomic_file(path, keep_mode=keep_mode) as raw:
        raw.write(data)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """`data` as indented, key-sorted JSON with a trailing newline, atomically."""
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def fsync_dir(folder: Path) -> None:
    """Make a rename durable; not every platform can open a folder, which is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
