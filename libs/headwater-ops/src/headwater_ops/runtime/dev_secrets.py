"""The development secret store of an instance (``secrets.json``, read by ``secretstores.local.file``).

daprd reads the file once, when it starts: a change needs a restart of the sidecars.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

__all__ = ["DevSecrets"]

# the planner API token, and development keys for the example sources (demo-data checks them)
_GENERATED = {"headwater": "api_token", "products-api": "api_key", "google-sheets": "api_key"}


class DevSecrets:
    """One instance's ``secrets.json``: generated keys on first use, merged updates after."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> None:
        """Create the file (mode 0600) and generate every missing development key."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self.path.write_text("{}\n")
            self.path.chmod(0o600)
        current = self._read()
        missing = {group: name for group, name in _GENERATED.items() if not current.get(group, {}).get(name)}
        for group, name in missing.items():
            current.setdefault(group, {})[name] = secrets.token_urlsafe(24)
        if missing:
            self._write(current)

    def api_token(self) -> str:
        """The planner API token (``headwater:api_token``)."""
        self.ensure()
        return str(self._read()["headwater"]["api_token"])

    def merge(self, new: dict[str, Any]) -> None:
        """Merge ``new`` into the file, one level deep."""
        self.ensure()
        current = self._read()
        for key, value in new.items():
            if isinstance(value, dict) and isinstance(current.get(key), dict):
                current[key].update(value)
            else:
                current[key] = value
        self._write(current)

    def _read(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.path.read_text() or "{}")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(data, indent=2) + "\n")
