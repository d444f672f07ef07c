"""Each best-practice finding is raised by the situation it describes and cleared by its fix."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appliances.models import AddressKind
from failover.advice_selectors import advice_list
from failover.advisor import RULES
from failover.models import SyncResult
from portal.models import Role
from tests.factories import ApplianceAddressFactory, BackupSettingsFactory, PairFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(org_a, make_member):
    return make_member(org_a, Role.VIEWER)


@pytest.fixture
def pair(org_a):
    """A pair that follows every best practice."""
    pair = PairFactory(organization=org_a, shared_ip="10.0.0.100")
    BackupSettingsFactory(appliance=pair.primary, enable_backup_operations=False, automatic_failover=False)
    BackupSettingsFactory(appliance=pair.backup, enable_backup_operations=True, automatic_failover=True,
                          sync_interval=3600)
    for member, ip in ((pair.primary, "10.0.0.1"), (pair.backup, "10.0.0.2")):
        ApplianceAddressFactory(appliance=member, address=ip, prefix_length=24, kind=AddressKind.UNIQUE)
    return pair


def codes(viewer, pair) -> set[str]:
    return {f.code for f in advice_list(user=viewer, pair=pair)}


def save(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


def test_a_pair_following_the_best_practices_has_no_findings(viewer, pair):
    assert codes(viewer, pair) == set()


def _slow_sync(p):
    now = timezone.now()
    SyncRecordFactory(pair=p, started_at=now - timedelta(hours=3), finished_at=now - timedelta(hours=1),
                      result=SyncResult.SUCCEEDED)


def _served_certificates(p, primary_fingerprint="aa" * 32, backup_fingerprint="bb" * 32):
    """What the certificates app observed each member serving (with and without the site name as SNI)."""
    factories = pytest.importorskip("tests.factories.certificates")
    ServedCertificate = factories.ServedCertificateFactory._meta.model
    for member, fingerprint in ((p.primary, primary_fingerprint), (p.backup, backup_fingerprint)):
        for server_name in ("", p.site_hostname):
            ServedCertificate.objects.filter(appliance=member, server_name=server_name).delete()
            factories.ServedCertificateFactory(appliance=member, server_name=server_name,
                                               fingerprint_sha256=fingerprint, spki_sha256=fingerprint)


# (rule, how to break the practice, how to fix it): every rule needs at least one case.
CASES = [
    ("primary_backup_operations",
     lambda p: save(p.primary.backup_settings, enable_backup_operations=True),
     lambda p: save(p.primary.backup_settings, enable_backup_operations=False)),
    ("backup_operations_off",
     lambda p: save(p.backup.backup_settings, enable_backup_operations=False),
     lambda p: save(p.backup.backup_settings, enable_backup_operations=True)),
    ("primary_automatic_failover",
     lambda p: save(p.primary.backup_settings, automatic_failover=True),
     lambda p: save(p.primary.backup_settings, automatic_failover=False)),
    ("sync_interval_too_long",
     lambda p: save(p.backup.backup_settings, sync_interval=2 * 86400),
     lambda p: save(p.backup.backup_settings, sync_interval=86400)),
    ("sync_interval_too_long",
     lambda p: save(p.backup.backup_settings, sync_interval=0),
     lambda p: save(p.backup.backup_settings, sync_interval=3600)),
    ("automatic_failover_across_subnets",
     lambda p: p.backup.addresses.update(address="10.9.0.2"),
     lambda p: p.backup.addresses.update(address="10.0.0.2")),
    ("automatic_failover_across_subnets",
     lambda p: save(p, network_method="dns_swing", dns_server="10.0.0.53", dns_zone="example.com"),
     lambda p: save(p.backup.backup_settings, automatic_failover=False)),
    ("shared_ip_on_both",
     lambda p: [save(m, status_shared_ips=["10.0.0.100"]) for m in p.members],
     lambda p: save(p.backup, status_shared_ips=[])),
    ("software_mismatch",
     lambda p: save(p.backup, build="99999-ffff"),
     lambda p: save(p.backup, build=p.primary.build)),
    ("builtin_and_api_failover",
     lambda p: save(p, portal_auto_failover=True),
     lambda p: save(p.backup.backup_settings, automatic_failover=False)),
    ("sync_slower_than_interval",
     _slow_sync,
     lambda p: save(p.backup.backup_settings, sync_interval=4 * 3600)),
    ("certificate_mismatch",
     _served_certificates,
     lambda p: _served_certificates(p, backup_fingerprint="aa" * 32)),
    # Settings never read nor declared: said so, instead of advice drawn from defaults.
    ("settings_unknown",
     lambda p: save(p.backup.backup_settings, declared_at=None),
     lambda p: save(p.backup.backup_settings, declared_at=timezone.now())),
]


def test_unknown_settings_give_no_advice_drawn_from_their_defaults(viewer, pair):
    # Defaults that would break two practices (backup operations on the primary, automatic failover on it)...
    save(pair.primary.backup_settings, enable_backup_operations=True, automatic_failover=True, declared_at=None)
    # ...are unknown values: only the "unknown" finding is raised.
    assert codes(viewer, pair) == {"settings_unknown"}


def test_every_rule_is_covered_by_a_case_below():
    assert {code for code, _, _ in CASES} == set(RULES)


@pytest.mark.parametrize("code, break_it, fix_it", CASES)
def test_finding_is_raised_then_cleared(viewer, pair, code, break_it, fix_it):
    break_it(pair)
    findings = {f.code: f for f in advice_list(user=viewer, pair=pair)}
    assert code in findings
    assert findings[code].why and findings[code].fix
    fix_it(pair)
    assert code not in codes(viewer, pair)


def test_findings_are_scoped_and_filterable(viewer, pair, org_b, make_member):
    save(pair.primary.backup_settings, enable_backup_operations=True, automatic_failover=True)
    assert {f.code for f in advice_list(user=viewer, severity="warning")} == {"primary_backup_operations",
                                                                             "primary_automatic_failover"}
    assert [f.code for f in advice_list(user=viewer, code="primary_automatic_failover")] == ["primary_automatic_failover"]
    assert advice_list(user=make_member(org_b, Role.ADMIN)) == []


def test_advice_over_rest(viewer, pair, api_as):
    save(pair.primary.backup_settings, enable_backup_operations=True)
    rows = api_as(viewer).get("/api/v1/advice/?code=primary_backup_operations").json()["results"]
    assert [(r["code"], r["pair"]) for r in rows] == [("primary_backup_operations", pair.pk)]
    assert api_as(viewer).get(f"/api/v1/pairs/{pair.pk}/advice/").json()[0]["fix"]
