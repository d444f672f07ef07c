"""docker/compose.yml held against the settings and the code it runs.

``docker compose config`` cannot run here (Debian ships no compose plugin), so this reads the compose files and
checks what would otherwise only fail at ``docker compose up``: every variable a service sets is one the settings
read, every queue the settings route to has a worker, one beat, gunicorn reachable only through the TLS front,
the demo's fleet file generated before the simulator reads it, and the commands themselves run.
"""

import re
import shlex
import subprocess
import sys

import pytest
import yaml
from django.conf import settings

from .env import ROOT, production_env

COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
DEMO = yaml.safe_load((ROOT / "docker" / "compose.demo.yml").read_text())
SERVICES = COMPOSE["services"]
# Services built from the portal's image (the x-portal anchor).
PORTAL_SERVICES = {name: s for name, s in SERVICES.items() if s.get("build", {}).get("dockerfile") == "docker/Dockerfile"}
SETTINGS_SOURCE = (ROOT / "portal" / "settings.py").read_text()
SETTINGS_VARIABLES = set(re.findall(r"\.(?:str|bool|int|list|db|email_url)\(\s*\"([A-Z_]+)\"", SETTINGS_SOURCE))
CADDYFILE = (ROOT / "docker" / "Caddyfile").read_text()


def demo_only(service) -> bool:
    return "demo" in service.get("profiles", [])


def test_every_variable_the_portal_services_set_is_read_by_the_settings():
    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "PORTAL_VAR_DIR"} <= SETTINGS_VARIABLES
    for name, service in PORTAL_SERVICES.items():
        assert service["env_file"] == ".env", name
        for variable in service["environment"]:
            assert variable in SETTINGS_VARIABLES, f"{name} sets {variable}, which portal/settings.py never reads"
    example = dict(
        line.split("=", 1) for line in (ROOT / "docker" / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    # The example names both required secrets; the other entries are read by the settings or by compose itself.
    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS"} <= set(example)
    compose_text = (ROOT / "docker" / "compose.yml").read_text()
    for variable in example:
        assert variable in SETTINGS_VARIABLES or "${" + variable in compose_text, variable


def test_the_image_runs_production_settings_and_its_build_collects_static_files():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "DJANGO_SETTINGS_MODULE=portal.settings" in dockerfile
    assert "collectstatic --noinput" in dockerfile  # tests/production/test_static_build.py runs it


def command(name: str) -> list[str]:
    value = SERVICES[name]["command"]
    return value if isinstance(value, list) else shlex.split(value)


def _queues_left_out(commands) -> set[str]:
    """The queues the settings route to (and the default one) that no worker among ``commands`` (argv) consumes."""
    consumed = set()
    for argv in commands:
        if argv[:4] == ["celery", "-A", "portal", "worker"]:
            consumed |= set(argv[argv.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return (routed | {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")}) - consumed


def test_workers_consume_every_queue_the_settings_route_to_and_one_beat_runs():
    assert not _queues_left_out(command(name) for name in PORTAL_SERVICES)
    beats = [name for name in PORTAL_SERVICES if command(name)[:4] == ["celery", "-A", "portal", "beat"]]
    assert beats == ["beat"]


def test_the_documented_processes_consume_every_queue_the_settings_route_to():
    """docs/install.md's process list (tests/production/steps.py, which the e2e test runs): without a worker on
    a queue its tasks never run (the probe dispatch on "ticks", the failover evaluation on "evaluations")."""
    from .steps import PROCESSES

    assert not _queues_left_out(shlex.split(line) for line in PROCESSES.values())


def test_gunicorn_is_reached_only_through_the_tls_front():
    # One proxy (Caddy) appends the client's address: lockouts and throttles read it there.
    for name, service in PORTAL_SERVICES.items():
        assert service["environment"]["TRUSTED_PROXY_COUNT"] == "1", name
    web = SERVICES["web"]
    assert "ports" not in web, "gunicorn must not be published: clients could send X-Forwarded-Proto themselves"
    assert command("web")[:2] == ["gunicorn", "portal.wsgi:application"]
    bind = command("web")[command("web").index("--bind") + 1]
    caddy = SERVICES["caddy"]
    assert caddy["environment"]["PORTAL_UPSTREAM"] == f"web:{bind.rsplit(':', 1)[1]}"
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert command("caddy")[command("caddy").index("--config") + 1] == "/etc/caddy/Caddyfile"
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    # The portal answers to the name Caddy serves.
    assert caddy["environment"]["PORTAL_SITE_ADDRESS"] == SERVICES["web"]["environment"]["ALLOWED_HOSTS"]
    assert "X-Forwarded-Proto" in CADDYFILE and settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    for variable in ("PORTAL_SITE_ADDRESS", "PORTAL_TLS", "PORTAL_UPSTREAM"):
        assert "{$" + variable in CADDYFILE, variable


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_demo_profile_generates_the_fleet_file_the_simulator_serves_and_the_loader_reads(tmp_path):
    generate, serve, load = command("demo-fleet"), command("simulator"), command("demo-load")
    assert all(demo_only(SERVICES[name]) for name in ("demo-fleet", "simulator", "demo-load"))
    fleet = option(generate, "--output")
    assert option(serve, "--fleet") == fleet == load[3]
    assert option(load, "--ca") == option(serve, "--state-dir") + "/ca.pem"
    assert option(load, "--port") == option(serve, "--port")
    assert SERVICES["simulator"]["depends_on"]["demo-fleet"]["condition"] == "service_completed_successfully"
    assert SERVICES["demo-load"]["depends_on"]["simulator"]["condition"] == "service_healthy"
    for name in ("demo-fleet", "simulator", "demo-load"):
        assert any(volume.endswith(":" + fleet.rsplit("/", 1)[0]) for volume in SERVICES[name]["volumes"]), name
    # Appliances listen on the simulator's loopback: everything that calls them shares its network namespace.
    assert SERVICES["demo-load"]["network_mode"] == "service:simulator"
    for name in ("web", "worker", "probe-worker"):
        assert DEMO["services"][name]["network_mode"] == "service:simulator", name
    # Docker refuses port options on a container that joins another's network namespace.
    for name in ("web", "worker", "probe-worker", "demo-load"):
        assert not {"ports", "expose"} & set(SERVICES[name]), name
    assert DEMO["services"]["caddy"]["environment"]["PORTAL_UPSTREAM"] == "simulator:8000"

    # The generate command itself runs (written to a temporary path instead of the volume).
    argv = [sys.executable if word == "python" else word for word in generate]
    argv[argv.index("--output") + 1] = str(tmp_path / "fleet.yaml")
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, timeout=60)
    assert (tmp_path / "fleet.yaml").is_file()


@pytest.mark.parametrize("service", ["migrate", "demo-load"])
def test_management_commands_of_the_services_exist_under_production_settings(service, tmp_path):
    argv = command(service)
    assert argv[:2] == ["python", "manage.py"]
    result = subprocess.run([sys.executable, "manage.py", argv[2], "--help"], cwd=ROOT, env=production_env(tmp_path),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_demos_appliance_services_allow_loopback_where_its_appliances_are():
    """The simulated appliances listen on the simulator container's loopback, which production refuses."""
    assert "OUTBOUND_ALLOW_LOOPBACK" in SETTINGS_VARIABLES
    for name, service in DEMO["services"].items():
        if service.get("network_mode") == "service:simulator" or name == "demo-load":
            assert service.get("environment", {}).get("OUTBOUND_ALLOW_LOOPBACK") == "true", name
    for name, service in PORTAL_SERVICES.items():
        assert "OUTBOUND_ALLOW_LOOPBACK" not in service["environment"], f"{name}: production must not allow loopback"
