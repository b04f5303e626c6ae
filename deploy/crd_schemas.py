"""Validates custom resources against their CRD schemas, strict about unknown fields.

The one check of scripts/check-deploy.sh left in Python: the KEDA ScaledObject and TriggerAuthentication
schemas are generated from the cloudcoil KEDA models (pydantic), and the Argo Rollouts schemas are taken
from @kubernetes-models' generated modules; both are then applied with `jsonschema`. Porting
that would mean vendoring generated schemas instead of taking them from pinned packages.
Everything else is in xtask (`cargo xtask --help`), which also feeds this script:

    cargo xtask crd-json FILE... | crd_schemas.py CACHE_DIR NODE_MODULES

Reads one {"file", "doc"} JSON object per line; prints one line per resource, exits 1 with
FAIL: and the field on the first problem.
"""

import json
import re
import sys
from pathlib import Path


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def strict(schema):
    """Reject unknown fields, as the API server's strict field validation does:
    every object that lists its properties gets additionalProperties: false."""
    if isinstance(schema, dict):
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        for v in schema.values():
            strict(v)
    elif isinstance(schema, list):
        for v in schema:
            strict(v)
    return schema


def keda_schema(kind):
    from cloudcoil.models.keda import v1alpha1

    s = getattr(v1alpha1, kind).model_json_schema(by_alias=True)
    # Kubernetes owns metadata; kubernetes-validate already checks the built-in kinds.
    s["$defs"]["ObjectMeta"] = {"type": "object"}
    return strict(s)


def argo_schema(node_modules, pkg, kind):
    """The CRD schema embedded in @kubernetes-models' generated module."""
    js = (Path(node_modules) / "@kubernetes-models" / pkg / "argoproj.io/v1alpha1" / f"{kind}.js").read_text()
    m = re.search(r"const schema = (\{.*?\n\});\n", js, re.S)
    if not m:
        fail(f"no embedded schema in @kubernetes-models/{pkg} {kind}.js (package version changed?)")
    s = json.loads(m.group(1))
    s["properties"]["metadata"] = {"type": "object"}
    if kind == "Rollout":
        # The newest models that run on Node 20 predate Argo Rollouts 1.5, which
        # added workloadRef.scaleDown; add that one field, with its real enum.
        ref = s["properties"]["spec"]["properties"]["workloadRef"]["properties"]
        ref.setdefault("scaleDown", {"type": "string", "enum": ["never", "onsuccess", "progressively"]})
    return strict(s)


def main(cache_dir, node_modules):
    import jsonschema

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    makers = {
        "ScaledObject": lambda: keda_schema("ScaledObject"),
        "TriggerAuthentication": lambda: keda_schema("TriggerAuthentication"),
        "Rollout": lambda: argo_schema(node_modules, "argo-rollouts", "Rollout"),
        "AnalysisTemplate": lambda: argo_schema(node_modules, "argo-rollouts", "AnalysisTemplate"),
    }
    checked = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        item = json.loads(line)
        path, d = item["file"], item["doc"]
        kind = d.get("kind")
        name = f"{kind}/{d.get('metadata', {}).get('name')}"
        f = cache / f"{kind}.strict.json"
        if not f.exists():
            f.write_text(json.dumps(makers[kind]()))
        schema = json.loads(f.read_text())
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(d), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.path) or "(root)"
            fail(f"{path}: {name} at {where}: {e.message}")
        print(f"ok: {path}: {name} matches the {kind} CRD schema (unknown fields rejected)")
        checked += 1
    if not checked:
        fail("no custom resource found to check")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail(f"usage: cargo xtask crd-json FILE... | {sys.argv[0]} CACHE_DIR NODE_MODULES")
    main(*sys.argv[1:])
