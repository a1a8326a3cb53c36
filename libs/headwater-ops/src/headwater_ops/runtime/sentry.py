"""Dapr Sentry for the local stack: the certificate authority that gives every sidecar an mTLS
identity, so that each app's access-control policy can tell who calls it.

The runtime bundle carries no ``sentry``, and Dapr publishes it only inside release archives
this machine cannot download, so ``headwater setup`` builds it once from the Go module proxy
(``github.com/dapr/dapr@v<DAPR_VERSION>``, ``cmd/sentry``; about two minutes, cached under
``.headwater/cache/sentry-<version>/``). ``HEADWATER_SENTRY_BIN`` names a ready binary instead.

Per instance, Sentry runs in standalone mode with a self-signed root it generates on first
start under ``<instance>/sentry/credentials`` (``ca.crt`` is the trust anchor every daprd gets
as ``DAPR_TRUST_ANCHORS``). Self-hosted Sentry uses its ``insecure`` validator: it issues a
certificate for whatever app id a sidecar asks, so locally the identities keep honest apps
apart (a compromised app cannot call what its policy forbids through its own sidecar) but do
not stop a local attacker who runs a daprd of their own; on Kubernetes Sentry checks the pod's
service-account token.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from headwater_ops.runtime.settings import RuntimeSettings

__all__ = ["DAPR_VERSION", "TRUST_DOMAIN", "SentryError", "sentry_argv", "sentry_binary", "trust_anchors"]

DAPR_VERSION = "1.18.3"  # the bundle's daprd
TRUST_DOMAIN = "public"  # the apps' (Dapr's default; accessControl policies name it)
CONTROL_PLANE_TRUST_DOMAIN = "localhost"  # Sentry's own identity, as daprd expects it by default
_MODULE = "github.com/dapr/dapr"
_SYSTEM_CONFIG = """\
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprsystem
spec:
  mtls:
    enabled: true
    workloadCertTTL: 24h
    allowedClockSkew: 15m
"""


class SentryError(RuntimeError):
    """Sentry is missing and cannot be built here (the message says what to do)."""


def sentry_binary(settings: RuntimeSettings, report: Callable[[str], None] = print) -> Path:
    """``HEADWATER_SENTRY_BIN``, else the cached build, else build it now (Go needed)."""
    given = os.environ.get("HEADWATER_SENTRY_BIN")
    if given:
        if not os.access(given, os.X_OK):
            raise SentryError(f"HEADWATER_SENTRY_BIN={given} is not an executable file")
        return Path(given)
    target = settings.state_dir / "cache" / f"sentry-{DAPR_VERSION}" / "sentry"
    if target.is_file():
        return target
    go = shutil.which("go")
    if go is None:
        raise SentryError(
            "Dapr Sentry (mTLS identities for access control) is built from the Go module proxy and "
            "needs `go` on PATH (Go 1.26 works); or set HEADWATER_SENTRY_BIN to a sentry binary"
        )
    report(f"sentry: building {_MODULE}/cmd/sentry@v{DAPR_VERSION} from the Go module proxy (once, ~2 min)")
    _build(go, target)
    report(f"sentry: {target}")
    return target


def _build(go: str, target: Path) -> None:
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    found = subprocess.run(
        [go, "mod", "download", "-json", f"{_MODULE}@v{DAPR_VERSION}"], capture_output=True, text=True, env=env
    )
    if found.returncode != 0:
        raise SentryError(f"go mod download {_MODULE}@v{DAPR_VERSION} failed: {found.stderr.strip()[-500:]}")
    upstream = Path(json.loads(found.stdout)["GoMod"]).read_text()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sentry-build-") as work:
        # `go install pkg@version` refuses a module with replace directives: build it as a
        # dependency of a module that repeats them
        go_version = re.search(r"^go (\S+)", upstream, flags=re.M)
        lines = ["module headwater.local/sentrybuild", "", f"go {go_version.group(1) if go_version else '1.24'}"]
        lines += ["", f"require {_MODULE} v{DAPR_VERSION}", "", *_replace_directives(upstream)]
        (Path(work) / "go.mod").write_text("\n".join(lines) + "\n")
        built = subprocess.run(
            [go, "build", "-trimpath", "-o", str(target), f"{_MODULE}/cmd/sentry"],
            cwd=work,
            capture_output=True,
            text=True,
            env=env,
        )
    if built.returncode != 0:
        raise SentryError(f"building sentry failed: {built.stderr.strip()[-1000:]}")


def _replace_directives(go_mod: str) -> list[str]:
    """The ``replace`` lines of a go.mod (block and single-line forms), comments dropped."""
    out: list[str] = []
    for block in re.findall(r"^replace \((.*?)^\)", go_mod, flags=re.M | re.S):
        out += [f"replace {line.split('//')[0].strip()}" for line in block.splitlines() if "=>" in line]
    out += [line.split("//")[0].strip() for line in go_mod.splitlines() if re.match(r"^replace [^(]", line)]
    return [line for line in out if "=>" in line and "../" not in line]


def sentry_argv(binary: Path, instance_dir: Path, port: int, healthz: int, metrics: int) -> list[str]:
    """Standalone Sentry on loopback, its root and issuer under ``<instance>/sentry/credentials``."""
    folder = instance_dir / "sentry"
    credentials = folder / "credentials"
    credentials.mkdir(parents=True, exist_ok=True)
    credentials.chmod(0o700)
    (folder / "config.yaml").write_text(_SYSTEM_CONFIG)
    return [
        str(binary),
        f"--config={folder / 'config.yaml'}",
        f"--issuer-credentials={credentials}",
        f"--trust-domain={CONTROL_PLANE_TRUST_DOMAIN}",
        "--listen-address=127.0.0.1",
        f"--port={port}",
        "--healthz-listen-address=127.0.0.1",
        f"--healthz-port={healthz}",
        "--metrics-listen-address=127.0.0.1",
        f"--metrics-port={metrics}",
        "--mode=standalone",
    ]


def trust_anchors(instance_dir: Path) -> Path:
    """The root certificate every sidecar trusts (written by Sentry on its first start)."""
    return instance_dir / "sentry" / "credentials" / "ca.crt"
