"""The fourth source: the official release assets, each checked against its published ``.sha256``.

Assets live under ``HEADWATER_DOWNLOAD_BASE_URL`` (default GitHub); without network this
fails at once and names the other sources.
"""

from __future__ import annotations

import hashlib
import platform
import tarfile
from collections.abc import Callable
from pathlib import Path

import httpx

from headwater_ops.runtime.layout import (
    DAPR_CLI_VERSION,
    DAPR_VERSION,
    FERRETDB_VERSION,
    RuntimeBinaries,
    RuntimeNotFoundError,
    complete,
    find_binaries,
)
from headwater_ops.runtime.settings import RuntimeSettings

__all__ = ["download_assets", "from_download"]

Report = Callable[[str], None]


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


def from_download(settings: RuntimeSettings, report: Report, tried: list[str]) -> RuntimeBinaries:
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
    paths = find_binaries([bin_dir])
    if paths is None:
        raise RuntimeNotFoundError(f"download into {bin_dir} is incomplete; delete it and retry")
    return complete("download", paths, settings, None, None)


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
