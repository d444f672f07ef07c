"""probe_many against local servers: ordering, per-appliance errors, token sharing, deadlines."""

from __future__ import annotations

import threading
import time

import pytest
from driver_testkit import HEALTH_XML, FakeAppliance, Reply, server_context, token_reply, xml_reply

from appliances.drivers import (
    ApplianceAddress,
    ApplianceAuthError,
    ApplianceProtocolError,
    ApplianceTimeout,
    ApplianceTLSError,
    ApplianceUnreachable,
    Credentials,
    ProbeTarget,
    Timeouts,
    TrustSettings,
    probe_many,
)


@pytest.fixture
def servers(pki, tmp_path):
    started = []
    for _ in range(3):
        server = FakeAppliance(server_context(pki, tmp_path))
        server.routes["/oauth2/token"] = lambda seen: token_reply()
        server.routes["/api/command"] = lambda seen: xml_reply(HEALTH_XML)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(server)
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def target(port, pki, *, client_id="c", trust=None, ref=None, timeouts=Timeouts(connect=1, total=2)):
    return ProbeTarget(ApplianceAddress("127.0.0.1", port), Credentials(client_id, "s"),
                       trust or TrustSettings(ca_pem=pki.ca_pem), timeouts, ref=ref)


def test_results_in_order_with_typed_errors(servers, pki, token_cache, closed_port, silent_port):
    servers[1].routes["/api/command"] = lambda seen: Reply(200, b"<html/>", "text/html")
    servers[2].routes["/oauth2/token"] = lambda seen: Reply(401, b'{"error":"invalid_client"}', "application/json")
    targets = [
        target(servers[0].port, pki, ref="ok"),
        target(servers[1].port, pki, ref="html"),
        target(servers[2].port, pki, ref="badcreds"),
        target(closed_port, pki, ref="refused"),
        target(silent_port, pki, ref="silent", timeouts=Timeouts(connect=0.5, total=1)),
        target(servers[0].port, pki, ref="untrusted", client_id="other", trust=TrustSettings(ca_pem=pki.other_ca_pem)),
    ]
    results = probe_many(targets, concurrency=3, token_cache=token_cache)
    assert [r.target.ref for r in results] == ["ok", "html", "badcreds", "refused", "silent", "untrusted"]
    ok, html, badcreds, refused, silent, untrusted = results
    assert ok.ok and ok.health.appliance_id == "50adeb59f0f04163b09b7591af1949ea" and ok.elapsed_ms > 0
    assert isinstance(html.error, ApplianceProtocolError) and "text/html" in str(html.error)
    assert isinstance(badcreds.error, ApplianceAuthError)
    assert isinstance(refused.error, ApplianceUnreachable) and not isinstance(refused.error, ApplianceTimeout)
    assert isinstance(silent.error, ApplianceTimeout)
    assert isinstance(untrusted.error, ApplianceTLSError)
    assert "check_health" in str(html.error) and "127.0.0.1" in str(html.error)


def test_same_account_on_same_appliance_fetches_one_token(servers, pki, token_cache):
    targets = [target(servers[0].port, pki, ref=i) for i in range(6)]
    results = probe_many(targets, concurrency=6, token_cache=token_cache)
    assert all(r.ok for r in results)
    assert servers[0].count("/oauth2/token") == 1


def test_401_retry_inside_the_batch(servers, pki, token_cache):
    probe_many([target(servers[0].port, pki)], token_cache=token_cache)
    tokens = iter(["fresh"])
    servers[0].routes["/oauth2/token"] = lambda seen: token_reply(next(tokens))
    servers[0].routes["/api/command"] = lambda seen: (
        xml_reply(HEALTH_XML) if seen.headers["authorization"] == "Bearer fresh" else Reply(401, b"", None))
    (result,) = probe_many([target(servers[0].port, pki)], token_cache=token_cache)
    assert result.ok


def test_overall_deadline_per_appliance(servers, pki, token_cache):
    def slow(seen):
        time.sleep(0.6)
        return token_reply()

    servers[0].routes["/oauth2/token"] = slow
    started = time.monotonic()
    (result,) = probe_many([target(servers[0].port, pki, timeouts=Timeouts(connect=2, total=5))],
                           timeout=0.3, token_cache=token_cache)
    assert isinstance(result.error, ApplianceTimeout)
    assert time.monotonic() - started < 1.5


def test_empty_and_invalid():
    assert probe_many([]) == []
    with pytest.raises(ValueError):
        probe_many([], concurrency=0)
