"""Loading a fleet file: everything new is written in bulk (a constant number of queries however large the
fleet), audited like a one-by-one creation, and a second load updates in place."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appliances.models import AddressKind, Appliance, ApplianceAddress
from demo.fleet_loader import fleet_load
from failover.models import BackupSettings, Pair
from portal.models import AuditEvent
from portal.permissions import SYSTEM
from simulator.fleet import generate_fleet
from simulator.pki import CertificateAuthority

pytestmark = pytest.mark.django_db

CA = CertificateAuthority.create("fleet loader test CA").cert_pem


def _load(fleet):
    with CaptureQueriesContext(connection) as queries:
        result = fleet_load(actor=SYSTEM, fleet=fleet, ca_pem=CA, port=8443, pairs=True)
    return result, len(queries)


def test_the_queries_of_a_first_load_do_not_grow_with_the_fleet():
    small = generate_fleet(organisations=1, pairs_per_org=2, singles=1, seed="small")
    large = generate_fleet(organisations=1, pairs_per_org=40, singles=10, seed="large")
    large["organisations"][0].update(slug="org-large", name="Large")

    _small_result, small_queries = _load(small)
    result, large_queries = _load(large)

    assert result.created == 90 and len(result.pairs) == 40
    assert large_queries <= small_queries + 4  # batches of 1,000 rows: no per-row query
    organization = result.organizations[0]
    assert Appliance.objects.filter(organization=organization).count() == 90
    assert Pair.objects.filter(organization=organization, established_at__isnull=False).count() == 40
    assert BackupSettings.objects.filter(organization=organization).count() == 80
    assert ApplianceAddress.objects.filter(organization=organization, kind=AddressKind.UNIQUE).count() == 90


def test_every_created_row_is_audited_and_no_secret_reaches_the_log():
    fleet = generate_fleet(organisations=1, pairs_per_org=2, singles=1)
    result, _queries = _load(fleet)

    appliance = next(iter(result.appliances.values()))
    event = AuditEvent.objects.get(object_type="appliances.appliance", object_id=str(appliance.pk))
    assert event.action == "create" and event.organization_id == appliance.organization_id
    assert event.changes["client_secret"] == "(secret changed)"
    secret = fleet["organisations"][0]["appliances"][0]["client_secret"]
    assert not AuditEvent.objects.filter(changes__icontains=secret).exists()
    assert AuditEvent.objects.filter(object_type="failover.pair").count() == 2
    appliance.refresh_from_db()
    assert appliance.client_secret == secret  # stored encrypted, read back


def test_a_second_load_updates_in_place():
    fleet = generate_fleet(organisations=1, pairs_per_org=2, singles=1)
    _load(fleet)
    fleet["organisations"][0]["appliances"][0]["version"] = "9.9"

    result, _queries = _load(fleet)

    assert result.created == 0 and result.updated == 5
    assert Appliance.objects.count() == 5 and Pair.objects.count() == 2
    name = fleet["organisations"][0]["appliances"][0]["name"]
    assert Appliance.objects.get(name=name).product_version == "9.9"


def test_a_member_of_another_pair_is_refused_and_nothing_is_written():
    fleet = generate_fleet(organisations=1, pairs_per_org=2, singles=0)
    pairs = fleet["organisations"][0]["pairs"]
    pairs[1]["primary"] = pairs[0]["backup"]

    with pytest.raises(Exception, match="one pair at most"):
        _load(fleet)
    assert not Appliance.objects.exists()
