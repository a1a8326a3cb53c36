"""The embedded MongoDB: a private PostgreSQL 15 cluster with DocumentDB, under FerretDB 2.

Steps checked with the bundle (see ../shared/runtime/README.md): the bundle's
``pg_documentdb*``, ``vector`` and ``pg_cron`` go into PostgreSQL's library and extension
folders; ``initdb`` runs as the ``postgres`` user when we are root; the cluster preloads
``pg_cron,pg_documentdb_core,pg_documentdb``; ``CREATE EXTENSION documentdb CASCADE`` once.
"""

from __future__ import annotations

import filecmp
import os
import pwd
import shutil
import subprocess
from pathlib import Path

__all__ = [
    "PostgresError",
    "create_documentdb_extension",
    "documentdb_installed",
    "ensure_cluster",
    "install_extensions",
    "pg_bindir",
    "postgres_argv",
    "run_user",
]

DB_USER = "headwater"


class PostgresError(RuntimeError):
    """PostgreSQL is missing, or the cluster could not be prepared."""


def _pg_config(flag: str) -> Path:
    pg_config = Path("/usr/lib/postgresql/15/bin/pg_config")
    exe = str(pg_config) if pg_config.exists() else shutil.which("pg_config")
    if not exe:
        raise PostgresError(
            "PostgreSQL 15 is not installed: run `make setup` "
            "(apt-get install postgresql-15 postgresql-15-postgis-3 postgresql-15-rum)"
        )
    return Path(subprocess.run([exe, flag], capture_output=True, text=True, check=True).stdout.strip())


def pg_bindir() -> Path:
    return _pg_config("--bindir")


def documentdb_installed() -> bool:
    return (_pg_config("--pkglibdir") / "pg_documentdb.so").exists() and (
        _pg_config("--sharedir") / "extension" / "documentdb.control"
    ).exists()


def install_extensions(source: Path) -> list[str]:
    """Copy the bundle's extension files into PostgreSQL; return the files that changed."""
    targets = {source / "lib": _pg_config("--pkglibdir"), source / "extension": _pg_config("--sharedir") / "extension"}
    changed: list[str] = []
    for src_dir, dst_dir in targets.items():
        for src in sorted(src_dir.iterdir()):
            dst = dst_dir / src.name
            if dst.exists() and filecmp.cmp(src, dst, shallow=False):
                continue
            if not os.access(dst_dir, os.W_OK):
                raise PostgresError(f"cannot write {dst_dir}: run `make setup` as root (or with sudo)")
            shutil.copy2(src, dst)
            changed.append(str(dst))
    return changed


def run_user() -> str | None:
    """``initdb`` and ``postgres`` refuse root: run them as ``postgres`` then."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresError("running as root but there is no 'postgres' user; install postgresql-15 with apt") from exc
    return "postgres"


def ensure_cluster(data_dir: Path) -> bool:
    """``initdb`` a private cluster once; return True when it was created now."""
    if (data_dir / "PG_VERSION").exists():
        return False
    user = run_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    if user:
        pw = pwd.getpwnam(user)
        os.chown(data_dir, pw.pw_uid, pw.pw_gid)
    data_dir.chmod(0o700)
    result = subprocess.run(
        [
            str(pg_bindir() / "initdb"),
            "-D",
            str(data_dir),
            "-A",
            "trust",
            "-U",
            DB_USER,
            "--encoding=UTF8",
            "--no-instructions",
        ],
        capture_output=True,
        text=True,
        user=user,
        cwd="/",
    )
    if result.returncode != 0:
        raise PostgresError(f"initdb {data_dir} failed:\n{result.stderr[-2000:]}")
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# Headwater: DocumentDB for FerretDB 2\n"
            "shared_preload_libraries = 'pg_cron,pg_documentdb_core,pg_documentdb'\n"
            "cron.database_name = 'postgres'\n"
            "listen_addresses = '127.0.0.1'\n"
            "max_connections = 200\n"
        )
    return True


def postgres_argv(data_dir: Path, port: int, socket_dir: Path) -> list[str]:
    return [
        str(pg_bindir() / "postgres"),
        "-D",
        str(data_dir),
        "-p",
        str(port),
        "-k",
        str(socket_dir),
        "-c",
        "listen_addresses=127.0.0.1",
    ]


def create_documentdb_extension(port: int, marker: Path) -> None:
    """``CREATE EXTENSION documentdb CASCADE`` once per cluster (remembered by ``marker``)."""
    if marker.exists():
        return
    result = subprocess.run(
        [
            str(pg_bindir() / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            DB_USER,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "CREATE EXTENSION IF NOT EXISTS documentdb CASCADE;",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise PostgresError(
            f"CREATE EXTENSION documentdb failed: {result.stderr.strip()} "
            "(are the bundle's extensions installed? run `make setup`)"
        )
    marker.write_text("documentdb\n")


def pg_ready(port: int) -> bool:
    result = subprocess.run([str(pg_bindir() / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
    return result.returncode == 0
