"""Each best-practice finding is raised by the situation it describes and cleared by its fix."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appliances.models import AddressKind
from appliances.services import address_create, address_update, appliance_update
from failover.advice_selectors import advice_groups, advice_list
from failover.advisor import RULES
from failover.models import BackupSettings, Pair, SyncResult
from failover.services.advice import advice_sweep
from failover.services.pairs import backup_settings_update, pair_delete, pair_update
from portal.models import Role
from tests.factories import (
    ApplianceAddressFactory,
    ApplianceFactory,
    BackupSettingsFactory,
    PairFactory,
    SyncRecordFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(org_a, make_member):
    return make_member(org_a, Role.VIEWER)


@pytest.fixture
def admin(org_a, make_member):
    return make_member(org_a, Role.ADMIN)


@pytest.fixture
def pair(org_a):
    """A pair that follows every best practice, its findings stored as the beat sweep leaves them."""
    pair = PairFactory(organization=org_a, shared_ip="10.0.0.100")
    BackupSettingsFactory(appliance=pair.primary, enable_backup_operations=False, automatic_failover=False)
    BackupSettingsFactory(appliance=pair.backup, enable_backup_operations=True, automatic_failover=True,
                          sync_interval=3600)
    for member, ip in ((pair.primary, "10.0.0.1"), (pair.backup, "10.0.0.2")):
        ApplianceAddressFactory(appliance=member, address=ip, prefix_length=24, kind=AddressKind.UNIQUE)
    advice_sweep()
    return pair


def codes(viewer, pair) -> set[str]:
    """What the pages and the API show: the stored findings."""
    return {f.code for f in advice_list(user=viewer, pair=pair)}


# The changes below go through the services a person (or a probe's inventory update) uses; each writes the
# pair's stored findings anew. Only what no write reports (a sync record, what a member serves on the wire) is
# left to the beat sweep.

def _fresh(p):
    return Pair.objects.select_related("primary", "backup").get(pk=p.pk)


def settings(member, **data):
    def change(p, admin):
        row = BackupSettings.objects.get(appliance=getattr(_fresh(p), member))
        backup_settings_update(actor=admin, backup_settings=row, data=data, apply=False)
    return change


def edit_pair(**data):
    return lambda p, admin: pair_update(actor=admin, pair=p, data=data)


def edit_appliance(member, **data):
    return lambda p, admin: appliance_update(actor=admin, appliance=getattr(_fresh(p), member), data=data)


def backup_addresses(ip):
    def change(p, admin):
        for address in p.backup.addresses.all():
            address_update(actor=admin, address=address, data={"address": ip})
    return change


def shared_ip_enabled_on_both(p, admin):
    for member in p.members:
        address_create(actor=admin, appliance=member, address="10.0.0.100", prefix_length=24, kind=AddressKind.SHARED,
                       enabled=True)


def shared_ip_disabled_on_backup(p, admin):
    address_update(actor=admin, address=p.backup.addresses.get(kind=AddressKind.SHARED), data={"enabled": False})


def replace_member(member):
    """A new appliance in the pair: its backup settings are created unknown (never read nor declared)."""
    return lambda p, admin: pair_update(actor=admin, pair=p, data={member: ApplianceFactory(organization=p.organization)})


def _slow_sync(p, admin):
    now = timezone.now()
    SyncRecordFactory(pair=p, started_at=now - timedelta(hours=3), finished_at=now - timedelta(hours=1),
                      result=SyncResult.SUCCEEDED)
    advice_sweep()


def _served_certificates(p, admin, primary_fingerprint="aa" * 32, backup_fingerprint="bb" * 32):
    """What the certificates app observed each member serving (with and without the site name as SNI)."""
    factories = pytest.importorskip("tests.factories.certificates")
    ServedCertificate = factories.ServedCertificateFactory._meta.model
    for member, fingerprint in ((p.primary, primary_fingerprint), (p.backup, backup_fingerprint)):
        for server_name in ("", p.site_hostname):
            ServedCertificate.objects.filter(appliance=member, server_name=server_name).delete()
            factories.ServedCertificateFactory(appliance=member, server_name=server_name,
                                               fingerprint_sha256=fingerprint, spki_sha256=fingerprint)
    advice_sweep()


# (rule, how to break the practice, how to fix it): every rule needs at least one case.
CASES = [
    ("primary_backup_operations",
     settings("primary", enable_backup_operations=True), settings("primary", enable_backup_operations=False)),
    ("backup_operations_off",
     settings("backup", enable_backup_operations=False), settings("backup", enable_backup_operations=True)),
    ("primary_automatic_failover",
     settings("primary", automatic_failover=True), settings("primary", automatic_failover=False)),
    ("sync_interval_too_long",
     settings("backup", sync_interval=2 * 86400), settings("backup", sync_interval=86400)),
    ("sync_interval_too_long",
     settings("backup", sync_interval=0), settings("backup", sync_interval=3600)),
    ("automatic_failover_across_subnets",
     backup_addresses("10.9.0.2"), backup_addresses("10.0.0.2")),
    ("automatic_failover_across_subnets",
     edit_pair(network_method="dns_swing", dns_server="10.0.0.53", dns_zone="example.com"),
     settings("backup", automatic_failover=False)),
    ("shared_ip_on_both",
     shared_ip_enabled_on_both, shared_ip_disabled_on_backup),
    ("software_mismatch",
     edit_appliance("backup", build="99999-ffff"), edit_appliance("backup", build="41234-0123abcd")),
    ("builtin_and_api_failover",
     edit_pair(portal_auto_failover=True), settings("backup", automatic_failover=False)),
    ("sync_slower_than_interval",
     _slow_sync, settings("backup", sync_interval=4 * 3600)),
    ("certificate_mismatch",
     _served_certificates, lambda p, admin: _served_certificates(p, admin, backup_fingerprint="aa" * 32)),
    # Settings never read nor declared: said so, instead of advice drawn from defaults.
    ("settings_unknown",
     replace_member("backup"), settings("backup", enable_backup_operations=True, sync_interval=3600)),
]


def test_unknown_settings_give_no_advice_drawn_from_their_defaults(viewer, admin, pair):
    # A new primary's settings are the defaults, which would break a practice (backup operations on)...
    replace_member("primary")(pair, admin)
    # ...but they are unknown values: only the "unknown" finding is raised.
    assert codes(viewer, pair) == {"settings_unknown"}


def test_every_rule_is_covered_by_a_case_below():
    assert {code for code, _, _ in CASES} == set(RULES)


@pytest.mark.parametrize("code, break_it, fix_it", CASES)
def test_finding_is_raised_then_cleared(viewer, admin, pair, code, break_it, fix_it):
    break_it(pair, admin)
    findings = {f.code: f for f in advice_list(user=viewer, pair=pair)}
    assert code in findings
    assert findings[code].why and findings[code].fix
    fix_it(pair, admin)
    assert code not in codes(viewer, pair)


def test_a_finding_still_broken_keeps_when_it_was_first_seen(viewer, admin, pair):
    settings("backup", sync_interval=2 * 86400)(pair, admin)
    first = advice_list(user=viewer, pair=pair).get(code="sync_interval_too_long")
    # Still broken, with other words (the interval in the text changed): the row is rewritten, its age kept.
    settings("backup", sync_interval=3 * 86400)(pair, admin)
    advice_sweep()
    again = advice_list(user=viewer, pair=pair).get(code="sync_interval_too_long")
    assert again.since == first.since and again.why != first.why


def test_findings_are_grouped_by_rule_with_counts(viewer, admin, pair, org_a):
    other = PairFactory(organization=org_a)
    BackupSettingsFactory(appliance=other.primary, enable_backup_operations=True)
    BackupSettingsFactory(appliance=other.backup, enable_backup_operations=True)
    settings("primary", enable_backup_operations=True)(pair, admin)
    settings("primary", enable_backup_operations=True)(other, admin)
    groups = [(g.code, g.severity, g.count) for g in advice_groups(advice_list(user=viewer))]
    # The backup's settings of the other pair left the default interval; only the shared finding counts two.
    assert ("primary_backup_operations", "warning", 2) in groups
    assert all(count == 1 for code, _severity, count in groups if code != "primary_backup_operations")


def test_findings_are_scoped_and_filterable(viewer, admin, pair, org_b, make_member):
    settings("primary", enable_backup_operations=True, automatic_failover=True)(pair, admin)
    assert {f.code for f in advice_list(user=viewer, severity="warning")} == {"primary_backup_operations",
                                                                             "primary_automatic_failover"}
    assert [f.code for f in advice_list(user=viewer, code="primary_automatic_failover")] == ["primary_automatic_failover"]
    assert list(advice_list(user=make_member(org_b, Role.ADMIN))) == []


def test_advice_over_rest(viewer, admin, pair, api_as):
    settings("primary", enable_backup_operations=True)(pair, admin)
    rows = api_as(viewer).get("/api/v1/advice/?code=primary_backup_operations").json()["results"]
    assert [(r["code"], r["pair"]) for r in rows] == [("primary_backup_operations", pair.pk)]
    assert api_as(viewer).get(f"/api/v1/pairs/{pair.pk}/advice/").json()[0]["fix"]
    groups = api_as(viewer).get("/api/v1/advice/groups/").json()
    assert [(g["code"], g["count"]) for g in groups] == [("primary_backup_operations", 1)]


def test_a_deleted_pair_takes_its_findings_along(viewer, admin, pair):
    settings("primary", enable_backup_operations=True)(pair, admin)
    pair_delete(actor=admin, pair=pair)
    assert not advice_list(user=viewer).exists()
