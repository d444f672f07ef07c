"""Hostile or broken appliance answers end up as a recorded error on the appliance and in its history,
never as a crash of the batch (the other appliances of the batch are still recorded)."""

import threading
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest
from django.utils import timezone

from appliances.drivers import FailoverRole, HealthReport, InMemoryTokenCache, ProbeResult
from appliances.models import Appliance
from failover.models import StatusChange
from failover.probing import probe_appliances
from failover.probing.transitions import MAX_SHARED_IPS, SYNC_CLOCK_SKEW, Thresholds, apply_success
from tests.appliances.drivers.driver_testkit import (
    HEALTH_XML,
    FakeAppliance,
    make_pki,
    server_context,
    token_reply,
    xml_reply,
)
from tests.factories import ApplianceFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("fault", "params", "expected"),
    [
        ("xml_bomb", {}, ["dtd", "entit", "xml"]),
        ("external_entity", {}, ["dtd", "entit", "xml"]),
        ("oversized", {"mb": 50}, ["large", "limit", "size", "bytes"]),
        ("wrong_content_type", {}, ["content type", "text/html"]),
        ("malformed", {"mode": "garbage"}, ["xml", "malformed", "pars"]),
        ("malformed", {"mode": "truncated"}, ["xml", "malformed", "pars"]),
    ],
)
def test_hostile_answer_is_recorded_not_raised(fleet, settings, fault, params, expected):
    settings.PROBE_FAILURES_TO_DOWN = 2
    victim, bystander = fleet.pairs[0].primary, fleet.pairs[0].backup
    fleet.probe(victim, bystander)
    fleet.sim.set_fault(victim.management_host, fault, **params)

    report = fleet.probe(victim, bystander, times=2)

    assert report.failed == 1 and report.succeeded == 1
    victim.refresh_from_db()
    bystander.refresh_from_db()
    assert victim.status_reachable is False
    error = victim.status_error.lower()
    assert any(word in error for word in expected), error
    assert "/etc/passwd" not in victim.status_error and "root:" not in victim.status_error
    change = StatusChange.objects.filter(appliance=victim).order_by("-at", "-id").first()
    assert change.reachable is False and change.error == victim.status_error
    assert bystander.status_reachable is True and bystander.status_error == ""


def test_changed_certificate_is_a_tls_error(fleet, settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    appliance = fleet.pairs[1].backup
    fleet.sim.set_fault(appliance.management_host, "changed_cert")
    fleet.probe(appliance)
    appliance.refresh_from_db()
    assert appliance.status_reachable is False
    assert "certificate" in appliance.status_error.lower() or "tls" in appliance.status_error.lower()


def test_hanging_appliance_is_bounded_by_its_probe_timeout(fleet, settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    appliance = fleet.pairs[1].primary
    type(appliance).objects.filter(pk=appliance.pk).update(probe_timeout=1)
    fleet.sim.set_fault(appliance.management_host, "hang")
    report = fleet.probe(appliance, fleet.pairs[1].backup)
    assert report.probe_seconds < 3
    appliance.refresh_from_db()
    assert appliance.status_reachable is False
    assert "time" in appliance.status_error.lower()


# -- well-formed but hostile content: the document parses, what it says must still be bounded ---------------

HEALTH_TEMPLATE = HEALTH_XML.decode().replace('id="50adeb59f0f04163b09b7591af1949ea"', 'id="{id}"')


@pytest.fixture
def hostile_appliance(tmp_path):
    """A real HTTPS server answering the health check with a document the test writes."""
    pki = make_pki()
    server = FakeAppliance(server_context(pki, tmp_path))
    server.routes["/oauth2/token"] = lambda seen: token_reply()
    server.health = HEALTH_XML
    server.routes["/api/command"] = lambda seen: xml_reply(server.health)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    appliance = ApplianceFactory(management_host="127.0.0.1", management_port=server.port, ca_bundle=pki.ca_pem,
                                 tls_pin="", appliance_guid="")
    yield server, appliance
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("reported", ["<script>x</script>", "a" * 33, "f" * 200, "z" * 32, "50adeb59-f0f0-4163-b09b-7591"])
def test_invalid_reported_id_is_an_error_and_never_learnt(hostile_appliance, reported):
    server, appliance = hostile_appliance
    server.health = HEALTH_TEMPLATE.format(id=escape(reported, {'"': "&quot;"})).encode()

    report = probe_appliances([appliance.pk], token_cache=InMemoryTokenCache())

    assert report.probed == 1
    appliance.refresh_from_db()
    assert appliance.appliance_guid == ""
    assert appliance.status_error == "The appliance reports an invalid id."
    assert appliance.status_healthy is False and appliance.status_role == ""
    assert appliance.status_shared_ips == []


def test_valid_reported_id_is_learnt_lowercased(hostile_appliance):
    server, appliance = hostile_appliance
    server.health = HEALTH_TEMPLATE.format(id="50ADEB59F0F04163B09B7591AF1949EA").encode()
    probe_appliances([appliance.pk], token_cache=InMemoryTokenCache())
    appliance.refresh_from_db()
    assert appliance.appliance_guid == "50adeb59f0f04163b09b7591af1949ea"
    assert appliance.status_healthy is True and appliance.status_role == "primary"


def _health(**overrides) -> ProbeResult:
    values = {
        "appliance_id": "50adeb59f0f04163b09b7591af1949ea", "hostname": "h", "version": "24.3.1", "build": "1",
        "success": True, "error_message": None, "failover_role": FailoverRole.PRIMARY,
        "enabled_shared_ips": ["192.0.2.10"], "last_data_sync_at": None, "last_data_sync_status": "Success",
        "latency_ms": 1.0,
    }
    values.update(overrides)
    return ProbeResult(target=None, value=HealthReport(**values), elapsed_ms=1.0)


def _believed_backup():
    return Appliance(
        appliance_guid="0123456789abcdef0123456789abcdef", status_reachable=True, status_healthy=True,
        status_role="backup", status_shared_ips=[], status_last_sync_status="Success", status_error="",
        status_failures=0, status_successes=5,
    )


def test_impostor_reporting_primary_does_not_change_role_ips_or_sync():
    appliance = _believed_backup()
    now = timezone.now()
    transition = apply_success(appliance, _health(last_data_sync_status="Failed: impostor"), now=now,
                               thresholds=Thresholds())
    assert appliance.status_role == "backup"
    assert appliance.status_shared_ips == []
    assert appliance.status_last_sync_status == "Success"
    assert appliance.status_healthy is False
    assert "reports id 50adeb59f0f04163b09b7591af1949ea, not 0123456789abcdef" in appliance.status_error
    assert transition is not None and "unhealthy" in transition.summary


def test_future_sync_time_is_clamped_to_now_plus_skew():
    appliance = _believed_backup()
    appliance.appliance_guid = "50adeb59f0f04163b09b7591af1949ea"
    now = timezone.now()
    apply_success(appliance, _health(last_data_sync_at=now + timedelta(days=3650)), now=now, thresholds=Thresholds())
    assert appliance.status_last_sync_at == now + SYNC_CLOCK_SKEW
    recent = now - timedelta(minutes=1)
    apply_success(appliance, _health(last_data_sync_at=recent), now=now, thresholds=Thresholds())
    assert appliance.status_last_sync_at == recent


def test_shared_ips_are_validated_and_capped():
    appliance = _believed_backup()
    appliance.appliance_guid = "50adeb59f0f04163b09b7591af1949ea"
    reported = ["192.0.2.10", "<script>", "999.1.1.1", "x" * 10_000, " 2001:DB8::1 "] + [
        f"10.0.{i // 250}.{i % 250}" for i in range(500)]
    apply_success(appliance, _health(enabled_shared_ips=reported), now=timezone.now(), thresholds=Thresholds())
    ips = appliance.status_shared_ips
    assert ips[:2] == ["192.0.2.10", "2001:db8::1"]
    assert len(ips) == MAX_SHARED_IPS
    assert all(len(ip) <= 39 for ip in ips)
