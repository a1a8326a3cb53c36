"""Find or obtain the runtime binaries: Dapr CLI, daprd, scheduler, FerretDB (+ PG extensions).

Sources, in order; the first *complete* set wins:

1. ``HEADWATER_RUNTIME_DIR`` — a folder holding the four binaries (or ``bin/`` with them);
2. ``dapr`` on the PATH with ``daprd`` and ``scheduler`` in ``~/.dapr/bin`` (``dapr init --slim``)
   and ``ferretdb`` on the PATH;
3. the offline bundle ``../shared/runtime/headwater-runtime-linux-amd64.tar.xz`` beside the
   checkout, checked against its ``.sha256`` file and its ``SHA256SUMS``, unpacked once;
4. the official release assets under ``HEADWATER_DOWNLOAD_BASE_URL`` (default GitHub), each
   checked against the ``.sha256`` published beside it.

Every source is laid out for the Dapr CLI by ``layout``; ``download`` holds the fourth.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

from headwater_ops.runtime.download import download_assets, from_download
from headwater_ops.runtime.layout import BINARIES, RuntimeBinaries, RuntimeNotFoundError, complete, find_binaries
from headwater_ops.runtime.settings import RuntimeSettings

__all__ = [
    "BINARIES",
    "RuntimeBinaries",
    "RuntimeNotFoundError",
    "download_assets",
    "resolve_runtime",
    "sha256_file",
]

Report = Callable[[str], None]


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
    return from_download(settings, report, tried)


def _from_runtime_dir(settings: RuntimeSettings, report: Report, tried: list[str]) -> RuntimeBinaries | None:
    if settings.runtime_dir is None:
        tried.append("1. HEADWATER_RUNTIME_DIR: not set")
        return None
    root = settings.runtime_dir.resolve()
    paths = find_binaries([root, root / "bin"])
    if paths is None:
        tried.append(f"1. HEADWATER_RUNTIME_DIR={root}: does not hold all of {', '.join(BINARIES)}")
        return None
    ext = root / "postgresql-15"
    return complete("HEADWATER_RUNTIME_DIR", paths, settings, ext if ext.is_dir() else None, root / "VERSIONS")


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
    paths = find_binaries([target / "bin"])
    if paths is None:
        raise RuntimeNotFoundError(f"offline bundle {bundle} lacks one of {', '.join(BINARIES)}")
    return complete("offline bundle", paths, settings, target / "postgresql-15", target / "VERSIONS")


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
