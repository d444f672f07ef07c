"""Hostile or broken appliance answers end up as a recorded error on the appliance and in its history,
never as a crash of the batch (the other appliances of the batch are still recorded)."""

import pytest

from failover.models import StatusChange

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
