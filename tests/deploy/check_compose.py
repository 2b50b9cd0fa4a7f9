#!/usr/bin/python3
"""deploy/compose.yaml parses and wires what the issue names: server, two
workers registering with it, Prometheus scraping each metrics port and loading
the alerts, Grafana provisioned; the model volume; drain below the stop grace.
Usage: check_compose.py DEPLOY_DIR. Prints each failure; exits 1 on any."""
import re
import sys

import yaml

deploy = sys.argv[1]
errors = []


def check(ok, message):
    if not ok:
        errors.append(message)


def flag(command, name):
    """The value of --name=VALUE in a command list, or None."""
    for arg in command:
        if arg.startswith("--" + name + "="):
            return arg.split("=", 1)[1]
    return None


def seconds(text):
    m = re.fullmatch(r"(\d+)s", str(text))
    return int(m.group(1)) if m else None


with open(deploy + "/compose.yaml") as f:
    compose = yaml.safe_load(f)
services = compose.get("services", {})
for name in ("server", "worker1", "worker2", "prometheus", "grafana"):
    check(name in services, f"service {name} missing")
if errors:
    print("\n".join(errors))
    sys.exit(1)

server = services["server"]
cmd = server["command"]
check(cmd[0] == "accllm-server", "server does not run accllm-server")
grpc_port = flag(cmd, "listen").rsplit(":", 1)[1]
metrics_port = flag(cmd, "metrics-listen").rsplit(":", 1)[1]
check(any(p.endswith(":" + grpc_port) for p in server.get("ports", [])), "server gRPC port not published")
check(any(p.endswith(":" + metrics_port) for p in server.get("ports", [])), "server metrics port not published")
drain = flag(cmd, "drain-seconds")
grace = seconds(server.get("stop_grace_period"))
check(drain is not None and grace is not None and int(drain) < grace,
      f"--drain-seconds {drain} must be below stop_grace_period {grace}")

volumes = compose.get("volumes", {})
check("models" in volumes, "no models volume")
scrape_targets = []
for name in ("worker1", "worker2"):
    w = services[name]["command"]
    check(w[0] == "accllm-worker", f"{name} does not run accllm-worker")
    check(flag(w, "scheduler") == "server:" + grpc_port, f"{name} does not register with server:{grpc_port}")
    check(flag(w, "listen") == f"{name}:50061", f"{name} must listen on its own hostname")
    scrape_targets.append(f"{name}:" + flag(w, "metrics-listen").rsplit(":", 1)[1])
for name in ("server", "worker1", "worker2"):
    mounts = services[name].get("volumes", [])
    check(any(m.startswith("models:/models") for m in mounts), f"{name} does not mount the models volume")
    health = services[name].get("environment", {}).get("ACCLLM_HEALTH_ADDR", "")
    check(health.endswith(":50051" if name == "server" else ":50061"), f"{name}: healthcheck address {health!r}")

# Prometheus: the config it mounts scrapes exactly these targets and loads the alerts.
prom = services["prometheus"]
check(any(v.startswith("./prometheus/prometheus.yml:") for v in prom["volumes"]), "prometheus.yml not mounted")
check(any(v.startswith("./prometheus/alerts.yml:") for v in prom["volumes"]), "alerts.yml not mounted")
with open(deploy + "/prometheus/prometheus.yml") as f:
    prom_config = yaml.safe_load(f)
targets = {t for job in prom_config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
check(targets == {"server:" + metrics_port, *scrape_targets}, f"scrape targets {sorted(targets)}")
check(prom_config.get("rule_files") == ["alerts.yml"], "prometheus.yml does not load alerts.yml")

grafana = services["grafana"]
check(any(v.startswith("./grafana/provisioning:") for v in grafana["volumes"]), "grafana provisioning not mounted")
check(any(v.startswith("./grafana/dashboards:/var/lib/grafana/dashboards") for v in grafana["volumes"]),
      "dashboards not mounted where the provider looks")
with open(deploy + "/grafana/provisioning/datasources/prometheus.yml") as f:
    ds = yaml.safe_load(f)["datasources"][0]
check(ds["url"] == "http://prometheus:9090", "datasource does not point at the prometheus service")

print("\n".join(errors) if errors else "compose.yaml: OK")
sys.exit(1 if errors else 0)
