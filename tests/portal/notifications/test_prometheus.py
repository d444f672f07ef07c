"""A real Prometheus (Debian's package) scrapes the portal's /metrics with the bearer token, and answers a query
with the database's figures."""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from failover.models import PairState
from tests.factories import PairFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _query(port: int, expression: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback, our own Prometheus)
        return json.load(response)["data"]["result"]


@pytest.mark.skipif(not os.path.exists(PROMETHEUS), reason="scripts/install-system-packages.sh installs prometheus")
def test_prometheus_scrapes_metrics(live_server, org_a, tmp_path, settings):
    PairFactory.create_batch(2, organization=org_a, state=PairState.CONFLICT)
    target = live_server.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: portal\n"
        f"    authorization: {{credentials: {settings.METRICS_TOKEN}}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n")
    port = _free_port()
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                result = _query(port, 'portal_pairs{organization="alpha",state="conflict"}')
            except OSError:
                result = []
            if result:
                break
            time.sleep(0.5)
        assert result, "Prometheus never stored a scrape of /metrics"
        assert float(result[0]["value"][1]) == 2
        (up,) = _query(port, 'up{job="portal"}')
        assert up["value"][1] == "1"
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool comes with Debian's prometheus package")
def test_example_alert_rules_are_valid():
    rules = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "prometheus-alert-rules.yml")
    checked = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True, check=False)  # noqa: S603,S607
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 10 rules found" in checked.stdout
