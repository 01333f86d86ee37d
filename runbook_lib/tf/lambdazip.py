"""The Lambda deployment zip, built from source byte-for-byte reproducibly."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

from runbook_lib import paths
from runbook_lib.errors import TerraformError
from runbook_lib.formats.atomic import write_atomic

LAMBDA_SOURCE = Path("lambda") / "visitor_counter.py"
LAMBDA_ZIP = Path("lambda") / "build" / "visitor_counter.zip"
# Fixed zip metadata so the same source gives the same bytes, hence a stable
# source_code_hash and no spurious Lambda update on apply.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

ZIP_FILE_MODE = 0o644


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A deterministic zip of {archive name: content}: sorted, fixed time and mode (pure)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the building OS
            info.external_attr = (0o100000 | ZIP_FILE_MODE) << 16
            zf.writestr(info, files[name], compresslevel=9)
    return buf.getvalue()


def build_lambda_zip(src: Path | None = None, dest: Path | None = None) -> Path:
    """Build the Lambda deployment zip from visitor_counter.py, byte-for-byte reproducible.

    Terraform compares filebase64sha256(zip) with the deployed code; a zip with build-time
    timestamps would redeploy the function on every apply. The file is only rewritten
    when its bytes change.
    """
    src = Path(src) if src else paths.terraform_dir() / LAMBDA_SOURCE
    dest = Path(dest) if dest else paths.terraform_dir() / LAMBDA_ZIP
    if not src.is_file():
        raise TerraformError(f"Lambda source {src} not found.")
    data = zip_bytes({src.name: src.read_bytes()})
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.is_file() or dest.read_bytes() != data:
        write_atomic(dest, data)
    return dest
