"""What a complete runtime is, and how it is laid out for the Dapr CLI.

The Dapr CLI only ever executes ``<DAPR_RUNTIME_PATH>/.dapr/bin/daprd``, so every source
(``binaries.resolve_runtime``) is laid out as a "slim" runtime folder (``.dapr/bin/daprd``,
``.dapr/components/``, ``.dapr/config.yaml``) that the stack passes to the CLI through
``DAPR_RUNTIME_PATH``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from headwater_ops.runtime.settings import RuntimeSettings

__all__ = [
    "BINARIES",
    "DAPR_CLI_VERSION",
    "DAPR_VERSION",
    "FERRETDB_VERSION",
    "RuntimeBinaries",
    "RuntimeNotFoundError",
    "complete",
    "find_binaries",
]

BINARIES = ("dapr", "daprd", "scheduler", "ferretdb")
DAPR_CLI_VERSION = "1.18.0"
DAPR_VERSION = "1.18.3"
FERRETDB_VERSION = "2.5.0"


class RuntimeNotFoundError(RuntimeError):
    """No source could provide a complete runtime; the message lists what to do."""


@dataclass(frozen=True)
class RuntimeBinaries:
    """A complete runtime and where it came from."""

    source: str
    dapr: Path
    daprd: Path
    scheduler: Path
    ferretdb: Path
    slim_dir: Path
    pg_extensions: Path | None = None
    versions_file: Path | None = None

    def versions(self) -> dict[str, str]:
        """Each binary's version as it reports it."""
        found = {
            "dapr": _first_line(self.dapr, "--version", pick="CLI version"),
            "daprd": _first_line(self.daprd, "--version"),
            "ferretdb": _first_line(self.ferretdb, "--version", pick="version"),
        }
        # The scheduler has no --version flag: the bundle's VERSIONS file says it.
        found["scheduler"] = _version_from_file(self.versions_file, "scheduler") or DAPR_VERSION
        return found


def find_binaries(folders: list[Path]) -> dict[str, Path] | None:
    for folder in folders:
        paths = {name: folder / name for name in BINARIES}
        if all(p.is_file() and os.access(p, os.X_OK) for p in paths.values()):
            return paths
    return None


def complete(
    source: str,
    paths: dict[str, Path],
    settings: RuntimeSettings,
    pg_extensions: Path | None,
    versions_file: Path | None,
) -> RuntimeBinaries:
    slim = _lay_out_slim(settings.state_dir / "dapr-runtime", paths["daprd"])
    return RuntimeBinaries(
        source=source,
        slim_dir=slim,
        pg_extensions=pg_extensions,
        versions_file=versions_file if versions_file and versions_file.is_file() else None,
        **paths,
    )


def _lay_out_slim(root: Path, daprd: Path) -> Path:
    """``root/.dapr/{bin/daprd, components/, config.yaml}``: what ``dapr run`` needs in slim mode."""
    dot = root / ".dapr"
    (dot / "bin").mkdir(parents=True, exist_ok=True)
    (dot / "components").mkdir(exist_ok=True)
    link = dot / "bin" / "daprd"
    if link.is_symlink() or link.exists():
        if link.resolve() == daprd.resolve():
            return root
        link.unlink()
    link.symlink_to(daprd)
    config = dot / "config.yaml"
    if not config.exists():
        config.write_text(
            "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: daprConfig\nspec: {}\n"
        )
    return root


def _first_line(binary: Path, flag: str, pick: str | None = None) -> str:
    try:
        out = subprocess.run([str(binary), flag], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    for line in out.splitlines():
        if pick is None or line.lower().startswith(pick.lower()):
            return line.split(":", 1)[-1].strip() if pick else line.strip()
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def _version_from_file(path: Path | None, name: str) -> str | None:
    if path is None or not path.is_file():
        return None
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == name and len(parts) > 1:
            return parts[1]
    return None
