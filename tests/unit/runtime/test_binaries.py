"""Where the runtime comes from: the four sources in order, checksums, and the
download path against a local HTTP server (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater_ops.runtime.binaries import (
    BINARIES,
    RuntimeNotFoundError,
    download_assets,
    resolve_runtime,
)
from headwater_ops.runtime.settings import RuntimeSettings


def _script(name: str) -> bytes:
    return f"#!/bin/sh\necho '{name} 9.9.9'\n".encode()


def _write_bins(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in BINARIES:
        path = folder / name
        path.write_bytes(_script(name))
        path.chmod(0o755)


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ~/.dapr, no dapr on PATH, no bundle: each test adds the source it is about."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("HEADWATER_RUNTIME_DIR", raising=False)
    return tmp_path


def _settings(tmp: Path, **kw: object) -> RuntimeSettings:
    return RuntimeSettings(home=tmp / "state", bundle=tmp / "no-bundle.tar.xz", **kw)  # type: ignore[arg-type]


def test_runtime_dir_wins_and_is_laid_out_for_the_dapr_cli(isolated: Path) -> None:
    _write_bins(isolated / "rt" / "bin")

    rt = resolve_runtime(_settings(isolated, runtime_dir=isolated / "rt"), report=lambda _m: None)

    assert rt.source == "HEADWATER_RUNTIME_DIR"
    assert rt.daprd == isolated / "rt" / "bin" / "daprd"
    slim = rt.slim_dir / ".dapr"
    assert (slim / "bin" / "daprd").resolve() == rt.daprd.resolve()
    assert (slim / "components").is_dir() and (slim / "config.yaml").is_file()


def test_dapr_init_slim_layout_is_used_when_complete(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_bins(isolated / "home" / ".dapr" / "bin")
    path_bin = isolated / "pathbin"
    _write_bins(path_bin)
    monkeypatch.setenv("PATH", f"{path_bin}:/usr/bin:/bin")

    rt = resolve_runtime(_settings(isolated), report=lambda _m: None)

    assert rt.source.startswith("dapr init --slim")
    assert rt.scheduler == isolated / "home" / ".dapr" / "bin" / "scheduler"


def _bundle(tmp: Path, corrupt: bool = False) -> Path:
    buf = io.BytesIO()
    sums = []
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name in BINARIES:
            data = _script(name)
            sums.append(f"{hashlib.sha256(data).hexdigest()}  ./bin/{name}")
            info = tarfile.TarInfo(f"./bin/{name}")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        text = ("\n".join(sums) + "\n").encode()
        info = tarfile.TarInfo("./SHA256SUMS")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
    bundle = tmp / "bundle.tar.xz"
    bundle.write_bytes(buf.getvalue())
    digest = hashlib.sha256(buf.getvalue()).hexdigest()
    (tmp / "bundle.tar.xz.sha256").write_text(("0" * 64 if corrupt else digest) + "  bundle.tar.xz\n")
    return bundle


def test_offline_bundle_is_verified_and_unpacked_once(isolated: Path) -> None:
    bundle = _bundle(isolated)
    settings = RuntimeSettings(home=isolated / "state", bundle=bundle)
    messages: list[str] = []

    first = resolve_runtime(settings, report=messages.append)
    second = resolve_runtime(settings, report=messages.append)

    assert first.source == "offline bundle"
    assert first.ferretdb.read_bytes() == _script("ferretdb")
    assert second.dapr == first.dapr
    assert sum("unpacking" in m for m in messages) == 1


def test_corrupt_bundle_is_refused(isolated: Path) -> None:
    bundle = _bundle(isolated, corrupt=True)
    with pytest.raises(RuntimeNotFoundError, match="corrupt"):
        resolve_runtime(RuntimeSettings(home=isolated / "state", bundle=bundle), report=lambda _m: None)


class _Assets(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("content-length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def asset_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Assets)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _serve_release(tamper: str | None = None) -> None:
    import platform

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    files: dict[str, bytes] = {}
    for name, asset in download_assets(platform.system().lower(), arch).items():
        if asset.endswith(".tar.gz"):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                data = _script(name)
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o755
                tar.addfile(info, io.BytesIO(data))
            payload = buf.getvalue()
        else:
            payload = _script(name)
        digest = hashlib.sha256(payload).hexdigest()
        files[f"/{asset}"] = payload
        files[f"/{asset}.sha256"] = (("f" * 64) if name == tamper else digest).encode()
    _Assets.files = files


def test_download_path_fetches_checks_and_installs_release_assets(isolated: Path, asset_server: str) -> None:
    _serve_release()

    rt = resolve_runtime(_settings(isolated, download_base_url=asset_server), report=lambda _m: None)

    assert rt.source == "download"
    for name in BINARIES:
        assert getattr(rt, name).read_bytes() == _script(name)


def test_download_with_wrong_checksum_is_refused(isolated: Path, asset_server: str) -> None:
    _serve_release(tamper="daprd")
    with pytest.raises(RuntimeNotFoundError, match=r"does not match its \.sha256"):
        resolve_runtime(_settings(isolated, download_base_url=asset_server), report=lambda _m: None)


def test_without_network_fails_at_once_naming_the_other_options(isolated: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on: connection refused at once
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(RuntimeNotFoundError) as err:
        resolve_runtime(_settings(isolated, download_base_url=f"http://127.0.0.1:{closed}"), report=lambda _m: None)
    message = str(err.value)
    assert "HEADWATER_RUNTIME_DIR" in message
    assert "dapr init --slim" in message
    assert "offline bundle" in message
