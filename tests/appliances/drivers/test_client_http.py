"""The client against a scriptable local HTTPS server: auth flow, hostile answers, trust, failures."""

from __future__ import annotations

import io
import time

import pytest
from driver_testkit import EXTERNAL_ENTITY, HEALTH_XML, NS, XML_BOMB, Reply, token_reply, xml_reply

from appliances.drivers import (
    ApplianceAddress,
    ApplianceAuthError,
    ApplianceClient,
    ApplianceProtocolError,
    ApplianceRefused,
    ApplianceTimeout,
    ApplianceTLSError,
    ApplianceUnreachable,
    Credentials,
    FailoverRole,
    Timeouts,
    TrustSettings,
    certificate_fingerprint,
    spki_pin,
)

CREDS = Credentials("portal-ro", "s3cret")


@pytest.fixture
def trust(pki) -> TrustSettings:
    return TrustSettings(ca_pem=pki.ca_pem)


@pytest.fixture
def make_client(https_server, trust, token_cache):
    def make(*, host="127.0.0.1", trust=trust, timeouts=Timeouts(connect=2, total=5), credentials=CREDS,
             port=None):
        return ApplianceClient(ApplianceAddress(host, port or https_server.port), credentials, trust,
                               timeouts=timeouts, token_cache=token_cache)
    return make


@pytest.fixture
def appliance(https_server):
    """The server with a token endpoint and a healthy check_health."""
    https_server.routes["/oauth2/token"] = lambda seen: token_reply()
    https_server.routes["/api/command"] = lambda seen: xml_reply(HEALTH_XML)
    return https_server


# -- happy path and token handling -----------------------------------------------------------------

def test_check_health_parses_and_reuses_one_token(appliance, make_client):
    client = make_client()
    first = client.check_health()
    second = client.check_health()
    assert first.appliance_id == "50adeb59f0f04163b09b7591af1949ea"
    assert (first.version, first.build) == ("24.3.1", "41234-0123abcd")
    assert first.failover_role is FailoverRole.PRIMARY
    assert first.enabled_shared_ips == ["192.0.2.10"]
    assert first.last_data_sync_at.timestamp() == 1732531200
    assert second.latency_ms > 0
    assert appliance.count("/oauth2/token") == 1  # one cached token serves both calls

    token_call = next(s for s in appliance.seen if s.path == "/oauth2/token")
    assert token_call.method == "POST" and token_call.params == {"grant_type": "client_credentials"}
    assert token_call.headers["authorization"].startswith("Basic ")
    command = [s for s in appliance.seen if s.path == "/api/command"][-1]
    assert command.headers["authorization"] == "Bearer tok-1"
    assert command.headers["connection"] == "close"
    assert command.params == {"action": "check_health"}


def test_401_with_cached_token_refetches_once(appliance, make_client):
    tokens = iter(["old", "new"])
    appliance.routes["/oauth2/token"] = lambda seen: token_reply(next(tokens))
    make_client().check_health()  # caches "old"
    appliance.routes["/api/command"] = lambda seen: (
        xml_reply(HEALTH_XML) if seen.headers["authorization"] == "Bearer new" else Reply(401, b"", None))
    assert make_client().check_health().success
    assert appliance.count("/oauth2/token") == 2


def test_persistent_401_is_an_auth_error_and_not_a_loop(appliance, make_client, token_cache):
    appliance.routes["/api/command"] = lambda seen: Reply(401, b"", None)
    with pytest.raises(ApplianceAuthError, match="401"):
        make_client().check_health()
    assert appliance.count("/oauth2/token") == 1  # fresh token, no retry with it
    assert len(token_cache) == 0


def test_token_refused_reports_the_reason(https_server, make_client):
    https_server.routes["/oauth2/token"] = lambda seen: Reply(
        401, b'{"error": "invalid_client", "message": "Invalid client credentials"}', "application/json")
    with pytest.raises(ApplianceAuthError, match="invalid_client") as caught:
        make_client().check_health()
    assert "127.0.0.1" in str(caught.value)


def test_short_lived_token_is_not_cached(appliance, make_client, token_cache):
    appliance.routes["/oauth2/token"] = lambda seen: token_reply(expires_in=30)  # below the 60 s margin
    make_client().check_health()
    make_client().check_health()
    assert appliance.count("/oauth2/token") == 2


def test_permission_denied(appliance, make_client):
    appliance.routes["/api/command"] = lambda seen: xml_reply(f'<error xmlns="{NS}">Permission denied</error>', 403)
    with pytest.raises(ApplianceAuthError, match="permission denied"):
        make_client().get_appliances()


def test_error_answer_is_refused(appliance, make_client):
    appliance.routes["/api/command"] = lambda seen: xml_reply(
        f'<set_failover_role xmlns="{NS}"><error>Unable to contact the peer</error></set_failover_role>')
    with pytest.raises(ApplianceRefused, match="Unable to contact the peer"):
        make_client().set_failover_role("backup")
    sent = [s for s in appliance.seen if s.path == "/api/command"][-1]
    assert sent.method == "POST"
    assert sent.params == {"action": "set_failover_role", "role": "backup", "data_sync_first": "0", "force": "0"}


def test_role_change_success(appliance, make_client):
    appliance.routes["/api/command"] = lambda seen: xml_reply(
        "<set_failover_role xmlns='http://www.bomgar.com/namespaces/API/command'><success>"
        "Successfully started data sync. Role change will occur upon successful completion.</success>"
        "</set_failover_role>")
    result = make_client().set_failover_role(FailoverRole.PRIMARY, data_sync_first=True)
    assert result.pending_data_sync and result.requested_role is FailoverRole.PRIMARY


# -- hostile answers -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (xml_reply(XML_BOMB), "forbidden XML"),
        (xml_reply(EXTERNAL_ENTITY), "forbidden XML"),
        (xml_reply(b"\x00\xff<<health_check>>\x13\x37 not xml"), "not well-formed"),
        (xml_reply(HEALTH_XML[:200]), "not well-formed"),
        (Reply(200, b"<html><body>Bad Gateway</body></html>", "text/html"), "content type 'text/html'"),
        (Reply(200, HEALTH_XML, None), "content type 'none'"),
        (xml_reply(f"<health_check xmlns='{NS}'><success>1</success></health_check>"), "appliance"),
        (xml_reply(b"<api_information/>"), "expected <health_check>"),
        (Reply(502, b"Bad Gateway", "text/plain"), "HTTP status 502"),
    ],
    ids=["xml-bomb", "external-entity", "garbage", "truncated", "html", "no-content-type", "missing-element",
         "wrong-root", "http-502"],
)
def test_hostile_answers_are_protocol_errors(appliance, make_client, reply, message):
    appliance.routes["/api/command"] = lambda seen: reply
    with pytest.raises(ApplianceProtocolError, match=message):
        make_client().check_health()


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
def test_50_mb_answer_is_cut_off(appliance, make_client, announced):
    chunk = b"A" * 65536
    body = b"<health_check>" + chunk * 800 if announced else (chunk for _ in range(800))
    appliance.routes["/api/command"] = lambda seen: Reply(200, body, content_length=announced)
    started = time.monotonic()
    with pytest.raises(ApplianceProtocolError, match="larger than the 1048576 byte limit"):
        make_client().check_health()
    assert time.monotonic() - started < 3


# -- backup ----------------------------------------------------------------------------------------

def test_backup_streams_to_file(appliance, make_client):
    payload = bytes(range(256)) * 4096  # 1 MiB, above the XML cap: it must not be buffered
    appliance.routes["/api/backup"] = lambda seen: Reply(
        200, (payload[i:i + 65536] for i in range(0, len(payload), 65536)), "application/octet-stream",
        {"Content-Disposition": 'attachment; filename="site.nsb"'}, content_length=False)
    sink = io.BytesIO()
    result = make_client().download_backup(sink)
    assert sink.getvalue() == payload
    assert (result.bytes_written, result.filename) == (len(payload), "site.nsb")


def test_backup_size_cap_and_error_answer(appliance, make_client):
    appliance.routes["/api/backup"] = lambda seen: Reply(200, b"x" * 5000, "application/octet-stream")
    with pytest.raises(ApplianceProtocolError, match="4096 byte limit"):
        make_client().download_backup(io.BytesIO(), max_bytes=4096)
    appliance.routes["/api/backup"] = lambda seen: xml_reply(f"<error xmlns='{NS}'>Backup is disabled</error>")
    with pytest.raises(ApplianceRefused, match="Backup is disabled"):
        make_client().download_backup(io.BytesIO())


# -- plain probe and capabilities ------------------------------------------------------------------

@pytest.mark.parametrize(("status", "passed"), [(200, True), (500, False)])
def test_plain_check_health(https_server, make_client, status, passed):
    https_server.routes["/check_health"] = lambda seen: Reply(status, b"Health check: OK\n", "text/plain")
    result = make_client(credentials=None).plain_check_health()
    assert (result.passed, result.status_code, result.message) == (passed, status, "Health check: OK")
    assert "authorization" not in https_server.seen[0].headers


def test_capabilities_fall_back_to_standard_actions(appliance, make_client):
    appliance.routes["/api/command"] = lambda seen: xml_reply(f"<error xmlns='{NS}'>Invalid action</error>")
    capabilities = make_client().get_capabilities()
    assert not capabilities.extensions_reported
    assert capabilities.supports("set_failover_role") and not capabilities.supports("x_sync_now")


def test_extension_call_returns_dict_like_node(appliance, make_client):
    appliance.routes["/api/command"] = lambda seen: xml_reply(
        f"<sync_status xmlns='{NS}'><state>idle</state><peer id='p1'>b.example</peer><peer id='p2'>c</peer>"
        "</sync_status>")
    node = make_client().call_extension("x_get_sync_status", verbose=True)
    assert node["state"].text == "idle"
    assert [p.attrs["id"] for p in node.all("peer")] == ["p1", "p2"]
    assert node.to_dict() == {"state": "idle", "peer": [{"@id": "p1"}, {"@id": "p2"}]}
    assert appliance.seen[-1].params == {"action": "x_get_sync_status", "verbose": "1"}


# -- trust -----------------------------------------------------------------------------------------

def test_untrusted_ca_fails_before_anything_is_sent(appliance, make_client, pki):
    with pytest.raises(ApplianceTLSError, match="TLS verification failed"):
        make_client(trust=TrustSettings(ca_pem=pki.other_ca_pem)).check_health()
    assert appliance.seen == []


def test_name_mismatch_fails(appliance, make_client):
    with pytest.raises(ApplianceTLSError):
        make_client(host="localhost").check_health()  # certificate only names 127.0.0.1
    assert appliance.seen == []


def test_spki_pin(appliance, make_client, pki):
    assert make_client(trust=TrustSettings(pin=spki_pin(pki.cert_pem))).check_health().success
    wrong = TrustSettings(pin=spki_pin(pki.ca_pem))
    before = len(appliance.seen)
    with pytest.raises(ApplianceTLSError, match="pin mismatch"):
        make_client(trust=wrong).check_health()  # even though a TLS session could be resumed
    assert len(appliance.seen) == before


def test_certificate_fingerprint_pin_checked_before_credentials(appliance, make_client, pki):
    good = TrustSettings(pin=certificate_fingerprint(pki.cert_pem).upper())
    assert make_client(trust=good).check_health().success
    assert make_client(trust=good).check_health().success  # no session resumption: still verified
    wrong = TrustSettings(pin=":".join(["AB"] * 32))
    before = len(appliance.seen)
    with pytest.raises(ApplianceTLSError, match="fingerprint mismatch"):
        make_client(trust=wrong, credentials=Credentials("other", "x")).check_health()
    assert len(appliance.seen) == before  # no token request: the secret never left the client


def test_trust_settings_refuse_no_verification_and_typos():
    with pytest.raises(ValueError, match="never unverified"):
        TrustSettings()
    with pytest.raises(ValueError, match="pin must be"):
        TrustSettings(pin="sha1:abcd")


# -- transport failures ----------------------------------------------------------------------------

def test_connection_refused(make_client, closed_port):
    with pytest.raises(ApplianceUnreachable, match="cannot reach") as caught:
        make_client(port=closed_port).check_health()
    assert not isinstance(caught.value, ApplianceTimeout)


def test_silent_peer_times_out(make_client, silent_port):
    started = time.monotonic()
    with pytest.raises(ApplianceTimeout, match="timed out"):
        make_client(port=silent_port, timeouts=Timeouts(connect=0.5, total=1)).check_health()
    assert time.monotonic() - started < 2


def test_unresolvable_host(pki, token_cache):
    client = ApplianceClient(ApplianceAddress("no-such-host.invalid"), CREDS, TrustSettings(ca_pem=pki.ca_pem),
                             timeouts=Timeouts(2, 3), token_cache=token_cache)
    with pytest.raises(ApplianceUnreachable):
        client.check_health()
