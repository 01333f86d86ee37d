"""The terraform binary, and Terraform's name for this machine's platform."""

from __future__ import annotations

import os
import platform
import shutil


def find_terraform() -> str | None:
    """The terraform binary: RUNBOOK_TERRAFORM if set (a path or a name on PATH), else PATH."""
    override = os.environ.get("RUNBOOK_TERRAFORM")
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        return shutil.which(override)
    return shutil.which("terraform")


def os_arch() -> str:
    """Terraform's platform name for this machine, e.g. linux_amd64."""
    system = platform.system().lower()
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return f"{system}_{arch}"
