#!/usr/bin/python3
"""deploy/k8s: builds each kustomization (resources, namespace, JSON 6902
patches: the subset the manifests use; anything else is an error, not
skipped), validates the objects structurally and checks accllm's rules:
FPGA resource requested (base) and absent (cpu overlay), probe ports equal
container ports, scrape annotations and ServiceMonitor on the metrics port,
grace period above --drain-seconds, memory request covering weights + KV pool.
Usage: check_k8s.py K8S_DIR. Prints each failure; exits 1 on any."""
import copy
import os
import re
import sys

import yaml

FPGA = re.compile(r"^xilinx\.com/fpga-xilinx_u280_")
errors = []


def fail(where, message):
    errors.append(f"{where}: {message}")


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def pointer(path):
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")]


def apply_6902(obj, ops, where):
    for op in ops:
        parts = pointer(op["path"])
        parent = obj
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        key = int(last) if isinstance(parent, list) and last != "-" else last
        if op["op"] == "remove":
            if isinstance(parent, dict) and key not in parent:
                fail(where, f"patch removes missing {op['path']}")
                continue
            del parent[key]
        elif op["op"] in ("replace", "add"):
            if op["op"] == "replace" and isinstance(parent, dict) and key not in parent:
                fail(where, f"patch replaces missing {op['path']}")
            if isinstance(parent, list) and op["op"] == "add":
                parent.insert(len(parent) if key == "-" else key, op["value"])
            else:
                parent[key] = op["value"]
        else:
            fail(where, f"unsupported patch op {op['op']}")


def build(directory):
    """kustomize build, for the fields these kustomizations use."""
    kust_path = os.path.join(directory, "kustomization.yaml")
    kust = load_all(kust_path)[0]
    allowed = {"apiVersion", "kind", "namespace", "resources", "patches"}
    for key in set(kust) - allowed:
        fail(kust_path, f"field {key} is not understood by this checker")
    objects = []
    for res in kust.get("resources", []):
        path = os.path.join(directory, res)
        objects += build(path) if os.path.isdir(path) else load_all(path)
    for patch in kust.get("patches", []):
        target = patch["target"]
        ops = load_all(os.path.join(directory, patch["path"]))[0]
        hits = [o for o in objects if o["kind"] == target["kind"] and o["metadata"]["name"] == target["name"]]
        if len(hits) != 1:
            fail(kust_path, f"patch target {target} matches {len(hits)} objects")
        for o in hits:
            apply_6902(o, ops, kust_path)
    if "namespace" in kust:
        for o in objects:
            if o["kind"] != "Namespace":
                o["metadata"]["namespace"] = kust["namespace"]
    return [copy.deepcopy(o) for o in objects]


def quantity_bytes(text):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", str(text))
    if not m:
        return None
    return int(m.group(1)) * {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}[m.group(2)]


def check_structure(o, where):
    for key in ("apiVersion", "kind", "metadata"):
        if key not in o:
            fail(where, f"missing {key}")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", o["metadata"].get("name", "")):
        fail(where, "metadata.name is not a DNS name")
    for k, v in {**o["metadata"].get("labels", {}), **o["metadata"].get("annotations", {})}.items():
        if not isinstance(v, str):
            fail(where, f"label/annotation {k} is not a string")


def pod_checks(o, where, drain_seconds, fpga_expected):
    spec = o["spec"]
    template = spec["template"]
    labels = template["metadata"].get("labels", {})
    for k, v in spec["selector"]["matchLabels"].items():
        if labels.get(k) != v:
            fail(where, f"selector {k}={v} does not match the pod template")
    pod = template["spec"]
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if drain_seconds is not None and not grace > drain_seconds:
        fail(where, f"terminationGracePeriodSeconds {grace} <= --drain-seconds {drain_seconds}")
    annotations = template["metadata"].get("annotations", {})
    volumes = {v["name"] for v in pod.get("volumes", [])}
    for c in pod["containers"]:
        for key in ("name", "image"):
            if key not in c:
                fail(where, f"container without {key}")
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        if any(not isinstance(p, int) for p in ports.values()):
            fail(where, "containerPort is not an integer")
        for probe in ("readinessProbe", "livenessProbe"):
            grpc = c.get(probe, {}).get("grpc")
            if grpc is None:
                fail(where, f"{probe} is not a native gRPC probe")
            elif grpc["port"] != ports.get("grpc"):
                fail(where, f"{probe} port {grpc['port']} is not the grpc container port {ports.get('grpc')}")
        if annotations.get("prometheus.io/scrape") != "true":
            fail(where, "no prometheus.io/scrape annotation")
        if annotations.get("prometheus.io/port") != str(ports.get("metrics")):
            fail(where, f"prometheus.io/port {annotations.get('prometheus.io/port')} is not the metrics port")
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                fail(where, f"volumeMount {m['name']} has no volume")
        resources = c.get("resources", {})
        fpga = [k for k in resources.get("limits", {}) if FPGA.match(k)]
        if fpga_expected is not None:
            if fpga_expected and not (fpga and all(resources["requests"].get(k) == 1 for k in fpga)):
                fail(where, "does not request the U280 resource of Xilinx's device plugin (1 card)")
            if not fpga_expected and (fpga or any(FPGA.match(k) for k in resources.get("requests", {}))):
                fail(where, "the CPU overlay still requests an FPGA")
            device = [a for a in c.get("args", []) if a.startswith("--device=")]
            want = "--device=fpga:0" if fpga_expected else "--device=cpu"
            if device != [want]:
                fail(where, f"args {device}, expected {want}")
            need = sum(int(annotations.get(k, 0)) for k in ("accllm.io/weights-bytes", "accllm.io/kv-pool-bytes"))
            have = quantity_bytes(resources.get("requests", {}).get("memory"))
            if need == 0 or have is None or have < need:
                fail(where, f"memory request {have} does not cover weights + KV pool ({need})")
    return pod


def check(directory, fpga_expected):
    objects = build(directory)
    by_kind = {}
    for o in objects:
        where = f"{directory}: {o.get('kind')}/{o.get('metadata', {}).get('name')}"
        check_structure(o, where)
        by_kind.setdefault(o["kind"], []).append(o)
    for kind in ("Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "ServiceMonitor"):
        if kind not in by_kind:
            fail(directory, f"no {kind}")
    workers = by_kind.get("StatefulSet", []) + by_kind.get("DaemonSet", [])
    if len(workers) != 1:
        fail(directory, "expected one worker StatefulSet or DaemonSet")
    config = {c["metadata"]["name"]: c["data"] for c in by_kind.get("ConfigMap", [])}
    drain = int(config.get("accllm-server", {}).get("ACCLLM_DRAIN_SECONDS", -1))
    server = by_kind["Deployment"][0]
    if "--drain-seconds=$(ACCLLM_DRAIN_SECONDS)" not in server["spec"]["template"]["spec"]["containers"][0]["args"]:
        fail(directory, "the server's --drain-seconds does not come from the ConfigMap")
    pods = {}
    for o in by_kind["Deployment"] + workers:
        where = f"{directory}: {o['kind']}/{o['metadata']['name']}"
        pods[o["metadata"]["name"]] = (o, pod_checks(o, where, drain, None if o["kind"] == "Deployment" else fpga_expected))
    # Services select pods and point at named container ports; the ServiceMonitor
    # selects every Service that has a port named like its endpoint.
    for svc in by_kind.get("Service", []):
        where = f"{directory}: Service/{svc['metadata']['name']}"
        sel = svc["spec"]["selector"]
        matches = [(o, pod) for o, pod in pods.values()
                   if all(o["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())]
        if len(matches) != 1:
            fail(where, f"selector matches {len(matches)} workloads")
            continue
        container_ports = {p["name"]: p["containerPort"] for c in matches[0][1]["containers"] for p in c["ports"]}
        for p in svc["spec"]["ports"]:
            if p["targetPort"] not in container_ports or container_ports[p["targetPort"]] != p["port"]:
                fail(where, f"port {p['name']} does not reach container port {p['targetPort']}")
    for sm in by_kind.get("ServiceMonitor", []):
        where = f"{directory}: ServiceMonitor/{sm['metadata']['name']}"
        sel = sm["spec"]["selector"]["matchLabels"]
        selected = [s for s in by_kind["Service"] if all(s["metadata"]["labels"].get(k) == v for k, v in sel.items())]
        if {s["metadata"]["name"] for s in selected} != {"accllm-server", "accllm-worker"}:
            fail(where, f"selects {[s['metadata']['name'] for s in selected]}")
        for ep in sm["spec"]["endpoints"]:
            for s in selected:
                port = next((p for p in s["spec"]["ports"] if p["name"] == ep["port"]), None)
                if port is None or ep["port"] != "metrics":
                    fail(where, f"endpoint {ep['port']} is not the metrics port of {s['metadata']['name']}")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        if pdb["spec"]["selector"]["matchLabels"] != workers[0]["spec"]["selector"]["matchLabels"]:
            fail(directory, "the PodDisruptionBudget does not select the workers")


root = sys.argv[1]
check(os.path.join(root, "base"), fpga_expected=True)
check(os.path.join(root, "overlays/cpu"), fpga_expected=False)
print("\n".join(errors) if errors else "k8s manifests: OK")
sys.exit(1 if errors else 0)
