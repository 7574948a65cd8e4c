"""The scale-out deployment files are wired together (no Docker needed).

deploy/compose/docker-compose.yml, deploy/compose/nginx.conf and deploy/k8s/mesoguide.yaml
are parsed and checked: services, published ports (loopback only), environment (every
${VAR} of deploy/endpoints.production.yml is given to Rasa; secrets are never written
in the files), health checks, start order, the load balancer's upstreams, and the
connection-pool arithmetic against PostgreSQL's max_connections. nginx's own parser
checks nginx.conf when nginx is installed.
"""
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from records import db
from scripts.replicas import find_nginx, free_port
from tests.fixtures.services import unavailable

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy" / "compose" / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "compose" / "nginx.conf"
K8S = ROOT / "deploy" / "k8s" / "mesoguide.yaml"
PRODUCTION_ENDPOINTS = ROOT / "deploy" / "endpoints.production.yml"
LONG_RUNNING = ("postgres", "redis", "actions", "rasa", "loadbalancer", "web", "console")
SECRETS = ("MESOGUIDE_ACTION_SECRET", "MESOGUIDE_SENDER_SECRET", "CONSOLE_SECRET_KEY")
RESERVED_JOBS = 1  # the migration or the retention purge, one at a time
VAR = re.compile(r"\$\{([A-Z0-9_]+)[^}]*\}")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def k8s():
    return [doc for doc in yaml.safe_load_all(K8S.read_text()) if doc]


def _endpoint_variables() -> set:
    """The ${VAR}s Rasa reads from deploy/endpoints.production.yml (comments left out)."""
    lines = (line.split("#", 1)[0] for line in PRODUCTION_ENDPOINTS.read_text().splitlines())
    return set(VAR.findall("\n".join(lines)))


def _replicas(service) -> int:
    return int((service.get("deploy") or {}).get("replicas", 1))


def _postgres_setting(args, name) -> int:
    for index, arg in enumerate(args):
        if arg == "-c" and args[index + 1].startswith(name + "="):
            return int(args[index + 1].split("=", 1)[1])
    raise AssertionError(f"{name} not set in {args}")


def _per_process_connections() -> int:
    """The most connections one MesoGuide process may open (its records engine's pool)."""
    url = "postgresql://mesoguide@db.invalid:5432/mesoguide"
    engine = db.get_engine(url)
    try:
        return engine.pool.size() + engine.pool._max_overflow
    finally:
        db.dispose_engine(url)


def test_compose_has_every_part_with_health_checks(compose):
    services = compose["services"]
    assert set(LONG_RUNNING) | {"migrate"} == set(services)
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check.get("test"), f"{name} has no health check"
    assert _replicas(services["rasa"]) >= 2 and _replicas(services["actions"]) >= 2
    # depends_on names existing services with a condition that fits them
    for name, service in services.items():
        for other, rule in (service.get("depends_on") or {}).items():
            assert other in services, f"{name} depends on unknown {other}"
            expected = "service_completed_successfully" if other == "migrate" else "service_healthy"
            assert rule["condition"] == expected, (name, other, rule)
    rasa_needs = set(services["rasa"]["depends_on"])
    assert {"migrate", "redis", "actions"} <= rasa_needs
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["command"] == ["python", "-m", "records", "upgrade"]


def test_compose_publishes_only_the_public_parts_on_loopback(compose):
    services = compose["services"]
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {"loadbalancer", "web", "console"}
    for ports in published.values():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), port
    assert published["loadbalancer"] == ["127.0.0.1:5005:80"]


def test_compose_environment_wiring(compose):
    services = compose["services"]
    rasa, actions = services["rasa"], services["actions"]
    command = rasa["command"]
    assert command[command.index("--endpoints") + 1] == "deploy/endpoints.production.yml"
    assert "--enable-api" not in command
    assert command[command.index("--port") + 1] == "5005"
    # every ${VAR} in the production endpoints is set for Rasa (Rasa fails on an unset one)
    needed = _endpoint_variables()
    assert needed <= set(rasa["environment"]), needed - set(rasa["environment"])
    assert rasa["environment"]["ACTION_ENDPOINT_URL"] == "http://loadbalancer:5055/webhook"
    assert rasa["environment"]["REDIS_HOST"] == "redis"
    assert rasa["environment"]["SANIC_PROXIES_COUNT"] == "1"
    # secrets come from the environment file, never from this file; both ends share one
    assert rasa["environment"]["MESOGUIDE_ACTION_SECRET"] == actions["environment"]["MESOGUIDE_ACTION_SECRET"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if key in SECRETS or "PASSWORD" in key:
                assert str(value).startswith("${" + key + ":?"), f"{name}.{key} must come from .env"
    assert "SENDER_SECRET" not in str(actions["environment"])
    # every database user reads the same PostgreSQL database
    urls = {s["environment"]["MESOGUIDE_DB_URL"] for n, s in services.items()
            if "MESOGUIDE_DB_URL" in (s.get("environment") or {})}
    assert len(urls) == 1 and "@postgres:5432/" in urls.pop()
    for name in ("rasa", "actions", "console", "migrate"):
        assert "MESOGUIDE_DB_URL" in services[name]["environment"], name
    assert "--host" in actions["command"] and actions["command"][-1] == "5055"
    assert services["web"]["environment"]["RASA_URL"].endswith("localhost:5005}")


def test_compose_connection_pools_fit_max_connections(compose):
    services = compose["services"]
    args = services["postgres"]["command"]
    max_connections = _postgres_setting(args, "max_connections")
    reserved = _postgres_setting(args, "superuser_reserved_connections")
    per_process = _per_process_connections()
    assert per_process == 15, "records/db.py changed its pool: update the arithmetic in deploy/ and docs"
    processes = _replicas(services["rasa"]) + _replicas(services["actions"]) + _replicas(services["console"]) + RESERVED_JOBS
    assert per_process * processes + reserved <= max_connections


def test_nginx_conf_balances_rasa_and_actions():
    text = NGINX_CONF.read_text()
    assert re.search(r"upstream rasa \{[^}]*server rasa:5005", text)
    assert re.search(r"upstream actions \{[^}]*server actions:5055", text)
    assert "listen 80;" in text and "listen 5055;" in text
    assert text.count("proxy_next_upstream off;") == 2
    assert "X-Forwarded-For $remote_addr" in text


def test_nginx_conf_is_valid_for_nginx(tmp_path):
    # installed once when missing, as the two-replica test does (tests/test_scale_out.py):
    # on a fresh machine this test runs first and must not skip for want of it
    nginx = find_nginx()
    if not nginx:
        unavailable("nginx is not installed and could not be installed (apt-get install nginx-light)")
    # the local nginx cannot resolve the compose service names, and Debian 12's nginx
    # (1.22) lacks the upstream `resolve` parameter (open-source nginx >= 1.27.3)
    text = NGINX_CONF.read_text()
    text = text.replace("rasa:5005 resolve", "127.0.0.1:5005").replace("actions:5055 resolve", "127.0.0.1:5055")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    text = text.replace("listen 5055;", f"listen 127.0.0.1:{free_port()};")
    assert " resolve;" not in text
    (tmp_path / "logs").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-g", f"pid {tmp_path}/nginx.pid;"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def _by_kind(docs, kind):
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_k8s_manifests_wiring(k8s):
    deployments = _by_kind(k8s, "Deployment")
    services = _by_kind(k8s, "Service")
    config = _by_kind(k8s, "ConfigMap")["mesoguide"]["data"]
    assert {"rasa", "actions", "console", "web", "redis"} <= set(deployments)
    assert "postgres" in _by_kind(k8s, "StatefulSet") and "mesoguide-migrate" in _by_kind(k8s, "Job")
    assert deployments["rasa"]["spec"]["replicas"] >= 2 and deployments["actions"]["spec"]["replicas"] >= 2
    workloads = list(deployments.values()) + list(_by_kind(k8s, "StatefulSet").values())
    for workload in workloads:
        name = workload["metadata"]["name"]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"] == labels
        for container in workload["spec"]["template"]["spec"]["containers"]:
            assert container.get("readinessProbe") and container.get("livenessProbe"), f"{name} lacks probes"
            port = container["ports"][0]["containerPort"]
            assert services[name]["spec"]["selector"] == labels
            assert services[name]["spec"]["ports"][0]["port"] == port
            probe = container["readinessProbe"].get("httpGet")
            if probe:
                assert probe["port"] == port
    rasa = deployments["rasa"]["spec"]["template"]["spec"]["containers"][0]
    given = set(config) | {e["name"] for e in rasa["env"]}
    needed = _endpoint_variables()
    assert needed <= given, needed - given
    assert "deploy/endpoints.production.yml" in rasa["command"][-1]
    assert config["ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook"
    for entry in rasa["env"]:
        if entry["name"] in SECRETS or entry["name"] == "MESOGUIDE_DB_URL":
            assert "secretKeyRef" in entry["valueFrom"], entry
    args = _by_kind(k8s, "StatefulSet")["postgres"]["spec"]["template"]["spec"]["containers"][0]["args"]
    processes = sum(deployments[n]["spec"]["replicas"] for n in ("rasa", "actions", "console")) + RESERVED_JOBS
    assert _per_process_connections() * processes + _postgres_setting(args, "superuser_reserved_connections") \
        <= _postgres_setting(args, "max_connections")
