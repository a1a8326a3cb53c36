"""Find or obtain the runtime binaries: Dapr CLI, daprd, scheduler, FerretDB (+ PG extensions).

Sources, in order; the first *complete* set wins:

1. ``HEADWATER_RUNTIME_DIR`` — a folder holding the four binaries (or ``bin/`` with them);
2. ``dapr`` on the PATH with ``daprd`` and ``scheduler`` in ``~/.dapr/bin`` (``dapr init --slim``)
   and ``ferretdb`` on the PATH;
3. the offline bundle ``../shared/runtime/headwater-runtime-linux-amd64.tar.xz`` beside the
   checkout, checked against its ``.sha256`` file and its ``SHA256SUMS``, unpacked once;
4. the official release assets under ``HEADWATER_DOWNLOAD_BASE_URL`` (default GitHub), each
   checked against the ``.sha256`` published beside it.

The Dapr CLI only ever executes ``<DAPR_RUNTIME_PATH>/.dapr/bin/daprd``, so every source is
laid out as a "slim" runtime folder (``.dapr/bin/daprd``, ``.dapr/components/``,
``.dapr/config.yaml``) that the stack passes to the CLI through ``DAPR_RUNTIME_PATH``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from headwater.runtime.settings import RuntimeSettings

__all__ = [
    "BINARIES",
    "RuntimeBinaries",
    "RuntimeNotFoundError",
    "resolve_runtime",
    "sha256_file",
]

BINARIES = ("dapr", "daprd", "scheduler", "ferretdb")
DAPR_CLI_VERSION = "1.18.0"
DAPR_VERSION = "1.18.3"
FERRETDB_VERSION = "2.5.0"

Report = Callable[[str], None]


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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_runtime(settings: RuntimeSettings, report: Report = print) -> RuntimeBinaries:
    """Return the first complete runtime, obtaining it from the bundle or a download if needed."""
    tried: list[str] = []
    for finder in (_from_runtime_dir, _from_dapr_slim, _from_bundle):
        found = finder(settings, report, tried)
        if found is not None:
            return found
    return _from_download(settings, report, tried)


def _from_runtime_dir(settings: RuntimeSettings, report: Report, tried: list[str]) -> RuntimeBinaries | None:
    if settings.runtime_dir is None:
        tried.append("1. HEADWATER_RUNTIME_DIR: not set")
        return None
    root = settings.runtime_dir.resolve()
    paths = _find_binaries([root, root / "bin"])
    if paths is None:
        tried.append(f"1. HEADWATER_RUNTIME_DIR={root}: does not hold all of {', '.join(BINARIES)}")
        return None
    ext = root / "postgresql-15"
    return _complete("HEADWATER_RUNTIME_DIR", paths, settings, ext if ext.is_dir() else None, root / "VERSIONS")


def _from_dapr_slim(settings: RuntimeSettings, report: Report, tried: list[str]) -> RuntimeBinaries | None:
    dapr = shutil.which("dapr")
    home_bin = Path.home() / ".dapr" / "bin"
    ferretdb = shutil.which("ferretdb") or (str(home_bin / "ferretdb") if (home_bin / "ferretdb").exists() else None)
    if not dapr or not (home_bin / "daprd").exists() or not (home_bin / "scheduler").exists() or not ferretdb:
        tried.append("2. dapr on PATH with daprd and scheduler in ~/.dapr/bin, ferretdb on PATH: incomplete")
        return None
    paths = {
        "dapr": Path(dapr),
        "daprd": home_bin / "daprd",
        "scheduler": home_bin / "scheduler",
        "ferretdb": Path(ferretdb),
    }
    return RuntimeBinaries(source="dapr init --slim (~/.dapr)", slim_dir=Path.home(), **paths)


def _from_bundle(settings: RuntimeSettings, report: Report, tried: list[str]) -> RuntimeBinaries | None:
    bundle = settings.bundle_path
    if not bundle.is_file():
        tried.append(f"3. offline bundle {bundle}: not found")
        return None
    checksum_file = bundle.with_name(bundle.name + ".sha256")
    if not checksum_file.is_file():
        raise RuntimeNotFoundError(f"offline bundle {bundle} has no checksum file {checksum_file}")
    expected = checksum_file.read_text().split()[0]
    target = settings.state_dir / "cache" / f"runtime-{expected[:16]}"
    if not (target / ".complete").exists():
        report(f"verifying {bundle.name} ...")
        actual = sha256_file(bundle)
        if actual != expected:
            raise RuntimeNotFoundError(
                f"offline bundle {bundle} is corrupt: sha256 {actual} != {expected} in {checksum_file.name}"
            )
        report(f"unpacking {bundle.name} into {target} ...")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        with tarfile.open(bundle, "r:xz") as archive:
            archive.extractall(partial, filter="data")
        _check_sha256sums(partial)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        (target / ".complete").write_text(expected + "\n")
    paths = _find_binaries([target / "bin"])
    if paths is None:
        raise RuntimeNotFoundError(f"offline bundle {bundle} lacks one of {', '.join(BINARIES)}")
    return _complete("offline bundle", paths, settings, target / "postgresql-15", target / "VERSIONS")


def _check_sha256sums(folder: Path) -> None:
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        raise RuntimeNotFoundError(f"{folder} has no SHA256SUMS")
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        path = folder / name.lstrip("*").removeprefix("./")
        if not path.is_file() or sha256_file(path) != digest:
            raise RuntimeNotFoundError(f"bundle file {name} does not match SHA256SUMS")


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def download_assets(os_name: str, arch: str) -> dict[str, str]:
    """Official release asset paths (relative to the download base URL) per binary."""
    return {
        "dapr": f"dapr/cli/releases/download/v{DAPR_CLI_VERSION}/dapr_{os_name}_{arch}.tar.gz",
        "daprd": f"dapr/dapr/releases/download/v{DAPR_VERSION}/daprd_{os_name}_{arch}.tar.gz",
        "scheduler": f"dapr/dapr/releases/download/v{DAPR_VERSION}/scheduler_{os_name}_{arch}.tar.gz",
        "ferretdb": f"FerretDB/FerretDB/releases/download/v{FERRETDB_VERSION}/ferretdb-{os_name}-{arch}",
    }


def _from_download(settings: RuntimeSettings, report: Report, tried: list[str]) -> RuntimeBinaries:
    base = settings.download_base_url.rstrip("/")
    target = settings.state_dir / "cache" / f"download-{DAPR_VERSION}-{FERRETDB_VERSION}"
    bin_dir = target / "bin"
    if not (target / ".complete").exists():
        bin_dir.mkdir(parents=True, exist_ok=True)
        assets = download_assets(platform.system().lower(), _arch())
        try:
            for name, asset in assets.items():
                _download_binary(f"{base}/{asset}", name, bin_dir, report)
        except httpx.HTTPError as exc:
            options = "\n  ".join(tried)
            raise RuntimeNotFoundError(
                f"4. download from {base} failed ({type(exc).__name__}: {exc}).\n"
                f"No runtime found. Options tried:\n  {options}\n"
                "Provide one of them: set HEADWATER_RUNTIME_DIR to a folder with dapr, daprd, "
                "scheduler and ferretdb; or run `dapr init --slim` and put ferretdb on the PATH; "
                "or place the offline bundle at ../shared/runtime/ beside the checkout."
            ) from exc
        (target / ".complete").write_text(base + "\n")
    paths = _find_binaries([bin_dir])
    if paths is None:
        raise RuntimeNotFoundError(f"download into {bin_dir} is incomplete; delete it and retry")
    return _complete("download", paths, settings, None, None)


def _download_binary(url: str, name: str, bin_dir: Path, report: Report) -> None:
    from rich.progress import Progress  # imported here: only the download path draws bars

    with httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, connect=5.0)) as client:
        expected = client.get(url + ".sha256").raise_for_status().text.split()[0]
        staging = bin_dir / f".{name}.download"
        digest = hashlib.sha256()
        with client.stream("GET", url) as response, staging.open("wb") as out, Progress() as bar:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0)) or None
            task = bar.add_task(f"{name}", total=total)
            for chunk in response.iter_bytes():
                out.write(chunk)
                digest.update(chunk)
                bar.advance(task, len(chunk))
    if digest.hexdigest() != expected:
        staging.unlink()
        raise RuntimeNotFoundError(f"download of {url} does not match its .sha256 ({expected})")
    if url.endswith(".tar.gz"):
        with tarfile.open(staging, "r:gz") as archive:
            member = next((m for m in archive.getmembers() if Path(m.name).name == name), None)
            if member is None:
                raise RuntimeNotFoundError(f"{url} holds no file named {name}")
            member.name = name
            archive.extract(member, bin_dir, filter="data")
        staging.unlink()
    else:
        staging.rename(bin_dir / name)
    (bin_dir / name).chmod(0o755)
    report(f"downloaded {name} from {url}")


def _find_binaries(folders: list[Path]) -> dict[str, Path] | None:
    for folder in folders:
        paths = {name: folder / name for name in BINARIES}
        if all(p.is_file() and os.access(p, os.X_OK) for p in paths.values()):
            return paths
    return None


def _complete(
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
