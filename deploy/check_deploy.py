"""Checks of scripts/check-deploy.sh that no off-the-shelf tool does.

Run with the check venv's python (it needs PyYAML and jsonschema):
    check_deploy.py COMMAND [ARGS...]
Each command prints what it checked and exits 1 with a message on the first problem.
"""

import json
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MON = ROOT / "monitoring"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def name_of(doc):
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


# ---------------------------------------------------------------- adapter drift
def adapter_drift():
    """The adapter rules ConfigMap must carry exactly monitoring/'s rules."""
    plain = yaml.safe_load((MON / "prometheus-adapter/rules.yaml").read_text())
    cms = [d for d in docs(ROOT / "k8s/50-prometheus-adapter-rules.yaml") if d.get("kind") == "ConfigMap"]
    if len(cms) != 1 or "config.yaml" not in cms[0].get("data", {}):
        fail("k8s/50-prometheus-adapter-rules.yaml: expected one ConfigMap with data.config.yaml")
    mirrored = yaml.safe_load(cms[0]["data"]["config.yaml"])
    if mirrored != plain:
        fail(
            "Prometheus Adapter rules drifted: k8s/50-prometheus-adapter-rules.yaml (data.config.yaml) "
            "differs from monitoring/prometheus-adapter/rules.yaml; copy the plain file into the ConfigMap"
        )
    print("ok: k8s adapter ConfigMap == monitoring/prometheus-adapter/rules.yaml")


# ------------------------------------------------------------------- dashboards
def dashboards():
    uids = {}
    files = sorted((MON / "grafana/dashboards").glob("*.json"))
    if not files:
        fail("no dashboards in monitoring/grafana/dashboards")
    for f in files:
        try:
            d = json.loads(f.read_text())
        except json.JSONDecodeError as e:
            fail(f"{f.relative_to(ROOT)} is not valid JSON: {e}")
        for key in ("uid", "title", "panels"):
            if key not in d:
                fail(f"{f.relative_to(ROOT)}: no '{key}'")
        if d["uid"] in uids:
            fail(f"{f.relative_to(ROOT)}: uid {d['uid']} also used by {uids[d['uid']]}")
        uids[d["uid"]] = f.name
        for p in d["panels"]:
            for t in p.get("targets", []):
                if not t.get("expr"):
                    fail(f"{f.name}: panel '{p.get('title')}' has a target without expr")
                if (t.get("datasource") or {}).get("uid") != "prometheus":
                    fail(f"{f.name}: panel '{p.get('title')}' does not use the provisioned datasource uid 'prometheus'")
        print(f"ok: {f.relative_to(ROOT)} ({len(d['panels'])} panels)")


# ----------------------------------------------------------------- metric names
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "bool", "offset", "inf", "nan", "atan2", "le",
}


def promql_metric_names(expr):
    """Metric names in a PromQL expression: identifiers that are not functions,
    keywords, label names, strings or durations. Good enough for our rules; the
    rules themselves are parsed for real by promtool."""
    e = re.sub(r"<<[^>]*>>", "", expr)  # Prometheus Adapter templates
    e = re.sub(r"\{\{[^}]*\}\}", "x", e)  # Argo / Grafana templates inside strings
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', e)
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # range and subquery durations
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\w+", "", e)  # Grafana variables such as $__rate_interval
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def known_metrics():
    listed = {}
    for line in (MON / "metrics.txt").read_text().splitlines():
        line = line.split("#", 1)[0].split()
        if line:
            listed[line[0]] = {"owner": line[1], "flags": set(line[2:])}
    return listed


def recorded_names():
    names = set()
    for f in sorted((MON / "prometheus/rules").glob("*.yml")):
        for g in yaml.safe_load(f.read_text())["groups"]:
            names |= {r["record"] for r in g["rules"] if "record" in r}
    return names


def metric_uses(rendered):
    """(where, expression) for every PromQL expression the deployment files hold."""
    uses = []
    for f in sorted((MON / "prometheus/rules").glob("*.yml")):
        for g in yaml.safe_load(f.read_text())["groups"]:
            for r in g["rules"]:
                uses.append((f"{f.name}: {r.get('record') or r.get('alert')}", r["expr"]))
    for f in sorted((MON / "grafana/dashboards").glob("*.json")):
        for p in json.loads(f.read_text())["panels"]:
            for t in p.get("targets", []):
                uses.append((f"{f.name}: {p.get('title')}", t["expr"]))
    adapter = yaml.safe_load((MON / "prometheus-adapter/rules.yaml").read_text())
    for r in adapter.get("rules", []) + adapter.get("externalRules", []):
        uses.append(("adapter rules: seriesQuery", r["seriesQuery"]))
        uses.append(("adapter rules: metricsQuery", r["metricsQuery"]))
    for path in rendered:
        for d in docs(path):
            if d.get("kind") == "ScaledObject":
                for t in d["spec"].get("triggers", []):
                    if t.get("type") == "prometheus":
                        uses.append((f"{path}: {name_of(d)}", t["metadata"]["query"]))
            if d.get("kind") == "AnalysisTemplate":
                for m in d["spec"].get("metrics", []):
                    q = (m.get("provider", {}).get("prometheus") or {}).get("query")
                    if q:
                        uses.append((f"{path}: {name_of(d)}", q))
    return uses


def adapter_exposed_names():
    adapter = yaml.safe_load((MON / "prometheus-adapter/rules.yaml").read_text())
    out = set()
    for r in adapter.get("rules", []) + adapter.get("externalRules", []):
        name = r.get("name", {}).get("as")
        if not name:
            fail("adapter rules: every rule must give name.as, so HPAs can be checked against it")
        out.add(name)
    return out


def crate_sources(crate):
    src = ROOT / crate / "src"
    if not src.is_dir():
        return None
    return "\n".join(p.read_text(errors="replace") for p in src.rglob("*.rs"))


def metric_names(*rendered):
    listed = known_metrics()
    allowed = set(recorded_names())
    for name, info in listed.items():
        allowed.add(name)
        if "histogram" in info["flags"]:
            allowed |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    uses = metric_uses(rendered)
    for where, expr in uses:
        for n in promql_metric_names(expr):
            if n not in allowed:
                fail(f"{where}: metric '{n}' is neither in monitoring/metrics.txt nor a recording rule")
    print(f"ok: {len(uses)} PromQL expressions use only listed metrics or recording rules")

    # HPAs read adapter-served names, not raw series.
    exposed = adapter_exposed_names()
    hpas = 0
    for path in rendered:
        for d in docs(path):
            if d.get("kind") != "HorizontalPodAutoscaler":
                continue
            for m in d["spec"].get("metrics", []):
                kind = m["type"]
                if kind in ("Object", "External", "Pods"):
                    n = m[kind[0].lower() + kind[1:]]["metric"]["name"]
                    if n not in exposed:
                        fail(f"{path}: {name_of(d)} reads custom metric '{n}', which no Prometheus Adapter rule serves")
                    hpas += 1
    print(f"ok: {hpas} HPA custom metrics are served by the Prometheus Adapter rules")

    # The code must still export what is listed (a rename in a crate fails here).
    pending_found = []
    for name, info in listed.items():
        src = crate_sources(info["owner"])
        if src is None:
            continue  # not a crate of ours (prometheus, kube-state-metrics)
        found = f'"{name}"' in src
        if "pending" in info["flags"]:
            if found:
                pending_found.append(name)
        elif not found:
            fail(f"metric '{name}' is listed for {info['owner']} but {info['owner']}/src no longer mentions it; "
                 "update monitoring/metrics.txt and every dashboard, rule and HPA that uses it")
    print("ok: every listed metric not marked pending is exported by its crate")
    for name in pending_found:
        print(f"note: '{name}' now appears in {listed[name]['owner']}/src: drop its 'pending' mark in monitoring/metrics.txt")


# -------------------------------------------------- autoscaler ownership conflicts
def autoscaling_conflicts(*rendered):
    scalers = {}  # (kind, name) of the scaled workload -> list of owners
    rollouts = {}
    for path in rendered:
        for d in docs(path):
            k = d.get("kind")
            ns = d.get("metadata", {}).get("namespace", "")
            if k == "HorizontalPodAutoscaler":
                ref = d["spec"]["scaleTargetRef"]
            elif k == "ScaledObject":
                ref = {"kind": "Deployment", **d["spec"]["scaleTargetRef"]}
            elif k == "Rollout" and "workloadRef" in d["spec"]:
                w = d["spec"]["workloadRef"]
                rollouts[(ns, w["kind"], w["name"])] = f"{path}: {name_of(d)}"
                continue
            else:
                continue
            scalers.setdefault((ns, ref["kind"], ref["name"]), []).append(f"{path}: {name_of(d)}")
    for target, owners in sorted(scalers.items()):
        if len(owners) > 1:
            fail(f"{target[1]}/{target[2]} is scaled by more than one autoscaler: {'; '.join(owners)}")
        if target in rollouts:
            fail(f"{target[1]}/{target[2]} is scaled by {owners[0]} but {rollouts[target]} takes it over "
                 "(workloadRef): scale the Rollout instead")
    print(f"ok: {len(scalers)} scale targets, each with exactly one autoscaler")


# ------------------------------------------------------------ tiers and layout
def cpu_cores(q):
    q = str(q)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def tiers(rendered):
    recorded = {}
    for g in yaml.safe_load((MON / "prometheus/rules/recording.yml").read_text())["groups"]:
        for r in g["rules"]:
            if r.get("record") == "service:cpu_request_cores:tier":
                recorded[r["labels"]["service"]] = float(re.search(r"vector\(([\d.]+)\)", r["expr"]).group(1))
    seen = 0
    for d in docs(rendered):
        if d.get("kind") != "Deployment":
            continue
        name = d["metadata"]["name"]
        c = d["spec"]["template"]["spec"]["containers"][0]
        cpu = cpu_cores(c["resources"]["requests"]["cpu"])
        if recorded.get(name) != cpu:
            fail(f"Deployment {name} requests {cpu} CPU but recording.yml's service:cpu_request_cores:tier "
                 f"says {recorded.get(name)}: utilisation would be computed against the wrong request")
        seen += 1
    print(f"ok: CPU requests of {seen} Deployments match the tier recording rules")


# ------------------------------------------------- HPA behaviour and forecast
BEHAVIOR_FILE = "config/hpa-behavior.json"
FORECAST_METRIC = "predicted_cpu_cores"


def differences(where, got, want):
    """(field path, got, want) for every leaf where got and want differ."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k in list(want) + [k for k in got if k not in want]:
            yield from differences(f"{where}.{k}", got.get(k), want.get(k))
    elif isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            yield (where, f"{len(got)} entries", f"{len(want)} entries")
        else:
            for i, (g, w) in enumerate(zip(got, want)):
                yield from differences(f"{where}[{i}]", g, w)
    elif got != want or type(got) is not type(want):
        yield (where, got, want)


def hpa_behavior(*rendered):
    """Every HPA scales with the behaviour `cost-optimizer simulate` replays
    (config/hpa-behavior.json), and reads the forecast as the Deployment's
    predicted_cpu_cores with an AverageValue target of the CPU metric's share of
    the request: a Value target is multiplied by the ready pods, so it discounts
    the forecast exactly while new pods start.
    Each argument is a rendered manifest file, or LABEL=FILE to name it LABEL."""
    want = json.loads((ROOT / BEHAVIOR_FILE).read_text())
    for arg in rendered:
        path, file = arg.split("=", 1) if "=" in arg else (arg, arg)
        hpas = forecasts = 0
        all_docs = docs(file)
        deployments = {(d["metadata"].get("namespace", ""), d["metadata"]["name"]): d
                       for d in all_docs if d.get("kind") == "Deployment"}
        for d in all_docs:
            if d.get("kind") != "HorizontalPodAutoscaler":
                continue
            hpa = f"{path}: HorizontalPodAutoscaler/{d['metadata']['name']}"
            for field, got, exp in differences("spec.behavior", d["spec"].get("behavior"), want):
                got = "missing" if got is None else repr(got)
                fail(f"{hpa}: {field} is {got} but {BEHAVIOR_FILE} says {exp!r}; `cost-optimizer simulate` "
                     f"replays that file, so change both or neither")
            hpas += 1
            metrics = d["spec"].get("metrics", [])
            cpu = [m["resource"]["target"] for m in metrics
                   if m["type"] == "Resource" and m["resource"]["name"] == "cpu"
                   and m["resource"]["target"]["type"] == "Utilization"]
            for i, m in enumerate(metrics):
                kind = m["type"]
                if kind not in ("Object", "External", "Pods"):
                    continue
                spec = m[kind[0].lower() + kind[1:]]
                name = spec["metric"]["name"]
                if not name.startswith("predicted_"):
                    continue
                at = f"spec.metrics[{i}]"
                if kind != "Object" or name != FORECAST_METRIC:
                    fail(f"{hpa}: {at} reads the forecast as {kind} metric '{name}'; read it as the Object "
                         f"metric '{FORECAST_METRIC}' of the Deployment (the forecast demand in cores)")
                target = spec["target"]
                if target.get("type") != "AverageValue" or "averageValue" not in target:
                    fail(f"{hpa}: {at} ({FORECAST_METRIC}) has target type {target.get('type')!r}; it must be "
                         "AverageValue with an averageValue: a Value target is multiplied by the ready pods "
                         "and discounts the forecast while new pods start")
                if not cpu:
                    fail(f"{hpa}: reads the forecast but has no CPU Utilization metric as the reactive safety net")
                obj = spec["describedObject"]
                ns = d["metadata"].get("namespace", "")
                dep = deployments.get((ns, obj["name"])) if obj.get("kind") == "Deployment" else None
                if dep is None:
                    fail(f"{hpa}: {at}.object.describedObject {obj.get('kind')}/{obj.get('name')} is not a "
                         f"Deployment in {path}; the adapter attaches the forecast to the Deployment")
                request = cpu_cores(dep["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"])
                share = cpu[0]["averageUtilization"] / 100
                expected = request * share
                if abs(cpu_cores(target["averageValue"]) - expected) > 1e-6:
                    fail(f"{hpa}: {at}.object.target.averageValue is {target['averageValue']} but "
                         f"{share:.0%} of the {request:g}-core request is {round(expected * 1000)}m "
                         "(the same per-pod aim as the CPU metric)")
                forecasts += 1
        if not hpas:
            fail(f"{path}: no HorizontalPodAutoscaler found to check")
        print(f"ok: {path}: {hpas} HPAs scale with the behaviour in {BEHAVIOR_FILE}; {forecasts} read "
              f"{FORECAST_METRIC} with an AverageValue target at their CPU target's share of the request")


def apply_f_layout():
    """`kubectl apply -f k8s` and `kubectl apply -k k8s` must apply the same files."""
    k = yaml.safe_load((ROOT / "k8s/Kustomization").read_text())
    listed = set(k["resources"])
    present = {p.name for p in (ROOT / "k8s").iterdir() if p.suffix in (".yaml", ".yml", ".json")}
    if listed != present:
        fail(f"k8s/Kustomization resources and k8s/*.yaml differ: only listed {sorted(listed - present)}, "
             f"only present {sorted(present - listed)}")
    for name in sorted(present):
        for d in docs(ROOT / "k8s" / name):
            if "apiVersion" not in d or "kind" not in d:
                fail(f"k8s/{name}: a document without apiVersion/kind would break `kubectl apply -f k8s`")
    print(f"ok: `kubectl apply -f k8s` and `-k k8s` apply the same {len(present)} files")


# ------------------------------------------------------------ CRD JSON schemas
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


def keda_schema():
    from cloudcoil.models.keda.v1alpha1 import ScaledObject

    s = ScaledObject.model_json_schema(by_alias=True)
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


def crd_schemas(cache_dir, node_modules, *paths):
    import jsonschema

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    makers = {
        "ScaledObject": keda_schema,
        "Rollout": lambda: argo_schema(node_modules, "argo-rollouts", "Rollout"),
        "AnalysisTemplate": lambda: argo_schema(node_modules, "argo-rollouts", "AnalysisTemplate"),
    }
    checked = 0
    for path in paths:
        for d in docs(path):
            kind = d.get("kind")
            if kind not in makers:
                continue
            f = cache / f"{kind}.strict.json"
            if not f.exists():
                f.write_text(json.dumps(makers[kind]()))
            schema = json.loads(f.read_text())
            errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(d), key=lambda e: list(e.path))
            if errors:
                e = errors[0]
                where = "/".join(str(p) for p in e.path) or "(root)"
                fail(f"{path}: {name_of(d)} at {where}: {e.message}")
            print(f"ok: {path}: {name_of(d)} matches the {kind} CRD schema (unknown fields rejected)")
            checked += 1
    if not checked:
        fail("no custom resource found to check")


# ------------------------------------------------------------ Argo CD's view
def argo_overlay(outdir):
    """Writes a kustomization that renders k8s/ the way the Argo CD Application
    does (its first source with its kustomize patches), so the checks can see what
    Argo CD would apply."""
    apps = [d for d in docs(ROOT / "k8s/gitops/application.yaml") if d.get("kind") == "Application"]
    if len(apps) != 1:
        fail("k8s/gitops/application.yaml: expected one Application")
    sources = apps[0]["spec"].get("sources") or [apps[0]["spec"]["source"]]
    base = [s for s in sources if s.get("path") == "k8s"]
    if not base:
        fail("the Application has no source with path k8s")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    k = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(ROOT / "k8s", out)],
        "patches": base[0].get("kustomize", {}).get("patches", []),
    }
    (out / "kustomization.yaml").write_text(yaml.safe_dump(k))


def argocd_json(*paths):
    """One JSON line per Argo CD document, for validate-argocd.js."""
    for path in paths:
        for d in docs(path):
            if d.get("apiVersion", "").startswith("argoproj.io/") and d.get("kind") in ("Application", "AppProject"):
                print(json.dumps({"file": path, "doc": d}))


# ------------------------------------------- Prometheus' Kubernetes SD config
K8S_SD_KEYS = {"role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata",
               "basic_auth", "authorization", "oauth2", "tls_config", "proxy_url", "follow_redirects"}
K8S_SD_ROLES = {"node", "pod", "service", "endpoints", "endpointslice", "ingress"}


def prom_k8s_config(src, out):
    """Debian's promtool is built without Kubernetes service discovery, so it rejects
    kubernetes_sd_configs outright. Check those blocks here, then write a copy with
    them replaced by static targets (and rule_files made absolute) for promtool to
    check everything else: relabelling, rule files, alerting."""
    src = Path(src)
    cfg = yaml.safe_load(src.read_text())
    for job in cfg.get("scrape_configs", []):
        sds = job.pop("kubernetes_sd_configs", None)
        if sds is None:
            continue
        for sd in sds:
            unknown = set(sd) - K8S_SD_KEYS
            if unknown:
                fail(f"{src}: job {job['job_name']}: unknown kubernetes_sd_configs fields {sorted(unknown)}")
            if sd.get("role") not in K8S_SD_ROLES:
                fail(f"{src}: job {job['job_name']}: kubernetes_sd_configs role must be one of {sorted(K8S_SD_ROLES)}")
            ns = sd.get("namespaces", {})
            if set(ns) - {"names", "own_namespace"} or not isinstance(ns.get("names", []), list):
                fail(f"{src}: job {job['job_name']}: kubernetes_sd_configs.namespaces takes names (a list) and own_namespace")
        job["static_configs"] = [{"targets": ["127.0.0.1:9"]}]
    # Service-account files exist only inside a pod; promtool insists they exist.
    placeholder = Path(out).with_suffix(".placeholder")
    placeholder.write_text("")

    def in_pod_files(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("credentials_file", "ca_file", "bearer_token_file") and str(v).startswith("/var/run/secrets/"):
                    node[k] = str(placeholder)
                else:
                    in_pod_files(v)
        elif isinstance(node, list):
            for v in node:
                in_pod_files(v)

    in_pod_files(cfg)
    cfg["rule_files"] = [str((src.parent / r).resolve()) for r in cfg.get("rule_files", [])]
    Path(out).write_text(yaml.safe_dump(cfg))
    print(f"ok: {src}: kubernetes_sd_configs blocks are well-formed (promtool checks the rest)")


COMMANDS = {
    "adapter-drift": adapter_drift,
    "dashboards": dashboards,
    "metric-names": metric_names,
    "autoscaling-conflicts": autoscaling_conflicts,
    "tiers": tiers,
    "hpa-behavior": hpa_behavior,
    "apply-f-layout": apply_f_layout,
    "crd-schemas": crd_schemas,
    "argo-overlay": argo_overlay,
    "argocd-json": argocd_json,
    "prom-k8s-config": prom_k8s_config,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        fail(f"usage: {sys.argv[0]} {{{','.join(COMMANDS)}}} [ARGS...]")
    os.chdir(ROOT)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
