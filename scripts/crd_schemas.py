"""Write JSON Schemas for the custom kinds our manifests use, generated from their upstream CRDs.

    python scripts/crd_schemas.py DAPR_CRD_DIR DAPR_VERSION KEDA_CRD_DIR KEDA_VERSION

The CRD folders are ``charts/dapr/crds`` of ``github.com/dapr/dapr`` and
``config/crd/bases`` of ``github.com/kedacore/keda/v2`` (``go mod download -json
github.com/dapr/dapr@v1.18.3`` prints where the module lands). Each CRD version's
``openAPIV3Schema`` becomes ``deploy/schemas/<kind>-<group>-<version>.json``, strict as
``kubernetes-validate --strict`` is for core kinds: an object with ``properties`` and no
``x-kubernetes-preserve-unknown-fields`` admits no other property. The source and its version
are written into each schema (``x-source``); ``tests/unit/deploy`` validates every rendered
manifest of those kinds against them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[1] / "deploy" / "schemas"
KINDS = {"Component", "Configuration", "Resiliency", "Subscription", "ScaledObject", "TriggerAuthentication"}


def strict(node: Any) -> Any:
    """OpenAPI v3 (Kubernetes flavour) → JSON Schema draft 2020-12, closed objects."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if out.get("type") == "object" and "properties" in out and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def schemas(crd_dir: Path, source: str) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            kind, group = spec["names"]["kind"], spec["group"]
            if kind not in KINDS:
                continue
            for version in spec["versions"]:
                schema = strict(version["schema"]["openAPIV3Schema"])
                schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
                schema["x-source"] = f"{source} {path.name} ({kind} {group}/{version['name']})"
                found[f"{kind.lower()}-{group}-{version['name']}.json"] = schema
    return found


def main(argv: list[str]) -> int:
    dapr_dir, dapr_version, keda_dir, keda_version = argv
    OUT.mkdir(parents=True, exist_ok=True)
    written = {
        **schemas(Path(dapr_dir), f"github.com/dapr/dapr {dapr_version} charts/dapr/crds/"),
        **schemas(Path(keda_dir), f"github.com/kedacore/keda/v2 {keda_version} config/crd/bases/"),
    }
    for name, schema in written.items():
        (OUT / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        print(f"wrote deploy/schemas/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
