"""The production install, step by step: the commands docs/install.md shows, with the values it shows.

``tests/e2e/test_production_stack.py`` runs exactly these (with free ports and a temporary directory instead of the
documented ones), and ``test_install_doc_shows_these_steps`` checks that the documentation still shows each of
them, so the documented install and the tested one cannot drift apart.
"""

# Values the documentation uses; the test substitutes its own.
DOC_VALUES = {"web_port": "8000", "https_port": "443", "http_port": "80", "sim_port": "8443",
              "control_port": "8099", "var": "/var/lib/portal", "site": "localhost", "admin": "admin"}

# Production variables the documented install exports besides the secrets and service URLs.
ENV = {"TRUSTED_PROXY_COUNT": "1"}

# One-off commands, in order.
SETUP = [
    "python manage.py migrate --noinput",
    "python manage.py createsuperuser --noinput --username {admin} --email {admin}@example.com",
    "python manage.py collectstatic --noinput",
]

# Long-running processes: the web server, a worker for operations and probes, one for the probe dispatch
# (ticks), one for the failover evaluation, beat, and the TLS front.
PROCESSES = {
    "web": "gunicorn portal.wsgi:application --bind 127.0.0.1:{web_port} --workers 2 --access-logfile -",
    "worker": "celery -A portal worker -Q celery,probes --concurrency 2 --loglevel INFO",
    "ticks-worker": "celery -A portal worker -Q ticks --pool solo -n ticks@%h --loglevel INFO",
    "evaluation-worker": "celery -A portal worker -Q evaluations --pool solo -n evaluations@%h --loglevel INFO",
    "beat": "celery -A portal beat --loglevel INFO",
    "tls": "caddy run --config docker/Caddyfile --adapter caddyfile",
}
# The TLS front's environment (docker/Caddyfile reads it).
TLS_ENV = {"PORTAL_SITE_ADDRESS": "{site}:{https_port}", "PORTAL_UPSTREAM": "127.0.0.1:{web_port}",
           "CADDY_HTTPS_PORT": "{https_port}", "CADDY_HTTP_PORT": "{http_port}"}

# The simulated pair listens on loopback, which the outbound address policy refuses in production: an evaluation
# with it allows loopback for every process (docs/install.md says so and says to drop it for real appliances).
SIMULATOR_ENV = {"OUTBOUND_ALLOW_LOOPBACK": "true"}

# Evaluation without appliances: a simulated pair, served for real, loaded into the inventory.
SIMULATOR = {
    "generate": "python -m simulator generate-fleet --organisations 1 --pairs-per-org 1 --singles 0 "
                "--time-scale 0.01 --output {var}/fleet.yaml",
    "serve": "python -m simulator serve --fleet {var}/fleet.yaml --state-dir {var}/simulator "
             "--port {sim_port} --control-port {control_port}",
    "load": "python manage.py load_fleet {var}/fleet.yaml --ca {var}/simulator/ca.pem --port {sim_port}",
}


def all_commands() -> list[str]:
    return [*SETUP, *PROCESSES.values(), *SIMULATOR.values()]
