"""Pure unit tests: XML parsing, answer parsers, token cache, request building. No network."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from driver_testkit import EXTERNAL_ENTITY, HEALTH_XML, NS, XML_BOMB

from appliances.drivers import (
    ApplianceAuthError,
    ApplianceProtocolError,
    ApplianceRefused,
    FailoverRole,
    parsers,
)
from appliances.drivers.tokens import EXPIRY_MARGIN_SECONDS, InMemoryTokenCache, cache_ttl
from appliances.drivers.xml import parse_xml


def test_namespace_agnostic_health_parsing():
    old_wire = HEALTH_XML.replace(NS.encode(), b"http://www.bomgar.com/namespaces/API/command")
    for body in (HEALTH_XML, old_wire, HEALTH_XML.replace(f' xmlns="{NS}"'.encode(), b"")):
        report = parsers.parse_health(parse_xml(body), latency_ms=1.0)
        assert report.failover_role is FailoverRole.PRIMARY
        assert report.last_data_sync_at == datetime(2024, 11, 25, 10, 40, tzinfo=UTC)
        assert report.last_data_sync_status == "Success"


def test_minimal_health_answer_means_not_configured():
    body = (f"<health_check xmlns='{NS}'><appliance id='abc'>h</appliance><version>19.1.8</version>"
            "<success>0</success><error_message>Disk full</error_message><failover_role>none</failover_role>"
            "</health_check>")
    report = parsers.parse_health(parse_xml(body.encode()), 0.0)
    assert (report.version, report.build) == ("19.1.8", "")
    assert not report.success and report.error_message == "Disk full"
    assert report.enabled_shared_ips == [] and report.last_data_sync_at is None


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ("<success>yes</success>", "should be 1 or 0"),
        ("<success>1</success><failover_role>master</failover_role>", "unknown failover role"),
        ("<success>1</success><failover_role>none</failover_role>"
         "<last_data_sync_time ts='soon'/>", "unparsable timestamp"),
    ],
)
def test_health_values_are_validated(fragment, message):
    body = f"<health_check><appliance id='a'>h</appliance><version>1 (2)</version>{fragment}</health_check>"
    if "failover_role" not in fragment:
        body = body.replace("</health_check>", "<failover_role>none</failover_role></health_check>")
    with pytest.raises(ApplianceProtocolError, match=message):
        parsers.parse_health(parse_xml(body.encode()), 0.0)


def test_iso_fallback_for_sync_time():
    body = (b"<health_check><appliance id='a'>h</appliance><version>1</version><success>1</success>"
            b"<failover_role>backup</failover_role>"
            b"<last_data_sync_time>2019-10-07T00:32:50.877+0000</last_data_sync_time></health_check>")
    when = parsers.parse_health(parse_xml(body), 0.0).last_data_sync_at
    assert when == datetime(2019, 10, 7, 0, 32, 50, 877000, tzinfo=UTC)


@pytest.mark.parametrize("body", [XML_BOMB, EXTERNAL_ENTITY, b"<!DOCTYPE x><x/>"])
def test_dtds_are_refused(body):
    with pytest.raises(ApplianceProtocolError, match="forbidden XML"):
        parse_xml(body)


def test_error_answers():
    with pytest.raises(ApplianceRefused, match="No archives"):
        parsers.raise_for_error(parse_xml(b"<error xmlns='http://www.bomgar.com/namespaces/API/reporting'>"
                                          b"No archives found</error>"))
    with pytest.raises(ApplianceAuthError, match="permission denied"):
        parsers.raise_for_error(parse_xml(b"<error>Document Not Found</error>"))
    with pytest.raises(ApplianceRefused):
        parsers.raise_for_error(parse_xml(b"<appliances><error>cluster unavailable</error></appliances>"))
    parsers.raise_for_error(parse_xml(HEALTH_XML))  # error_message is not an error answer


def test_api_info_and_appliances():
    info = parsers.parse_api_info(parse_xml(
        b"<api_information><api_version>1.19.0</api_version><timestamp>1732531200</timestamp><permissions>"
        b"<permission name='perm_command'>read_only</permission><permission name='perm_backup'>0</permission>"
        b"</permissions></api_information>"))
    assert info.command_access == "read_only" and not info.can_backup
    assert info.timestamp == datetime(2024, 11, 25, 10, 40, tzinfo=UTC)
    listing = parsers.parse_appliances(parse_xml(
        b"<appliances><appliance id='g1'><name>a</name><public_hostname>a.example</public_hostname>"
        b"<cluster_role>primary</cluster_role><failover_role>backup</failover_role>"
        b"<accepting_connections>0</accepting_connections><timezone_offset>-3600</timezone_offset></appliance>"
        b"</appliances>"))
    (entry,) = listing.appliances
    assert (entry.appliance_id, entry.failover_role, entry.accepting_connections, entry.timezone_offset) == (
        "g1", FailoverRole.BACKUP, False, -3600)


@pytest.mark.parametrize(
    ("status", "content_type", "body", "error", "message"),
    [
        (401, "application/json", b'{"error":"invalid_client"}', ApplianceAuthError, "invalid_client"),
        (400, "application/json", b"not json", ApplianceAuthError, "HTTP 400"),
        (200, "text/html", b"<html/>", ApplianceProtocolError, "did not answer JSON"),
        (200, "application/json", b'{"token_type":"Bearer"}', ApplianceProtocolError, "access_token"),
        (200, "application/json", b'{"access_token":"t","expires_in":"soon"}', ApplianceProtocolError,
         "expires_in"),
        (503, "text/plain", b"busy", ApplianceProtocolError, "HTTP 503"),
    ],
)
def test_token_answers(status, content_type, body, error, message):
    with pytest.raises(error, match=message):
        parsers.parse_token(status, content_type, body)


def test_token_cache_expiry_and_margin():
    now = [1000.0]
    cache = InMemoryTokenCache(clock=lambda: now[0])
    cache.set("k", "t", cache_ttl(3600))
    now[0] += 3600 - EXPIRY_MARGIN_SECONDS - 1
    assert cache.get("k") == "t"
    now[0] += 2
    assert cache.get("k") is None and len(cache) == 0
    assert cache_ttl(30) == 0


def test_concurrent_callers_fetch_one_token(https_server, pki):
    """Twenty threads missing the cache at once must not burn twenty of the 30 tokens."""
    import time

    from driver_testkit import token_reply, xml_reply

    from appliances.drivers import ApplianceAddress, ApplianceClient, Credentials, TrustSettings

    def slow_token(seen):
        time.sleep(0.2)
        return token_reply()

    https_server.routes["/oauth2/token"] = slow_token
    https_server.routes["/api/command"] = lambda seen: xml_reply(HEALTH_XML)
    cache = InMemoryTokenCache()
    client = ApplianceClient(ApplianceAddress("127.0.0.1", https_server.port), Credentials("c", "s"),
                             TrustSettings(ca_pem=pki.ca_pem), token_cache=cache)
    errors = []

    def call():
        try:
            client.check_health()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert https_server.count("/oauth2/token") == 1
    assert https_server.count("/api/command") == 20


def test_errors_read_well_and_survive_pickling():
    import pickle

    from appliances.drivers import ApplianceTimeout, ApplianceUnreachable

    error = ApplianceTimeout("timed out (after 1500 ms)", address="127.1.0.1:8443", action="check_health")
    assert str(error) == "127.1.0.1:8443 check_health: timed out (after 1500 ms)"
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, ApplianceUnreachable) and str(copy) == str(error)
