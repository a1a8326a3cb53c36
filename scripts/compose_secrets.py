"""``make compose-secrets``: the secrets docker-compose.yml mounts, generated once.

Writes ``.headwater/compose/secrets.json`` (the sidecars' local-file secret store: the operator
API token and development keys of the example sources) and ``.headwater/compose/tokens.env``
(``DAPR_API_TOKEN``, ``APP_API_TOKEN`` for every sidecar and app; ``HEADWATER_API_TOKEN`` for the
CLI), both mode 0600. An existing value is kept, so running it again changes nothing.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from headwater_ops.runtime.dev_secrets import DevSecrets

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / ".headwater" / "compose"


def _env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def main() -> int:
    store = DevSecrets(FOLDER / "secrets.json")
    operator = store.api_token()  # creates the file with every development key
    env_file = FOLDER / "tokens.env"
    env = _env(env_file)
    for key in ("DAPR_API_TOKEN", "APP_API_TOKEN"):
        env.setdefault(key, secrets.token_urlsafe(32))
    env["HEADWATER_API_TOKEN"] = operator
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# made by `make compose-secrets`; never commit\n")
        out.writelines(f"{key}={value}\n" for key, value in sorted(env.items()))
    print(f"wrote {store.path.relative_to(ROOT)} and {env_file.relative_to(ROOT)} (mode 0600)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
