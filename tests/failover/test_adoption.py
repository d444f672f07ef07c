"""Adopting pairs established outside the portal, against simulated pairs in both profiles: read, recorded, and
nothing changed on the appliances; every refusal says why and records nothing."""

from pathlib import Path

import pytest
from django.urls import reverse

from appliances.models import AddressKind
from demo.fleet_loader import fleet_load
from failover.adoption_selectors import adoption_proposals
from failover.models import BackupSettings, Pair, PairAdoptionImport
from failover.services.adoption import pair_adopt, pairs_adopt_csv
from failover.tasks import run_pair_adoption
from portal.models import AuditEvent, Role
from portal.permissions import SYSTEM
from tests.factories import ApplianceFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

#: What adoption must leave untouched on an appliance.
UNTOUCHED = ("role", "peer_address", "relationship", "shared_ips", "settings", "data", "role_history",
             "sync_history", "last_sync", "busy", "users_connected")


def appliance_facts(sim, appliance) -> dict:
    state = sim.state(appliance.management_host)
    return {key: state[key] for key in UNTOUCHED}


class Inventory:
    """The simulator's appliances in the inventory *without* their pairs, as a customer's fleet starts."""

    def __init__(self, sim, make_member):
        self.sim = sim
        loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet, ca_pem=Path(sim.ca_path).read_text(), port=sim.port)
        self.organization = loaded.organizations[0]
        self.appliances = loaded.appliances
        self.admin = make_member(self.organization, Role.ADMIN, username="adopt-admin")

    def pair(self, index):
        primary, backup = self.sim.pairs()[index]
        return self.appliances[primary["name"]], self.appliances[backup["name"]]

    def site(self, index):
        return f"pair{index + 1:02d}.org-001.sim.test"

    def facts(self):
        return {name: appliance_facts(self.sim, appliance) for name, appliance in self.appliances.items()}


@pytest.fixture(params=["vendor", "extended"])
def inventory(request, fresh_simulator, make_member):
    fresh_simulator.set_profile(request.param)
    inv = Inventory(fresh_simulator, make_member)
    inv.profile = request.param
    return inv


def test_adopting_an_established_pair_reads_both_and_changes_nothing(inventory):
    primary, backup = inventory.pair(0)
    before = inventory.facts()
    # The order given does not matter: the roles read decide which is which.
    pair = pair_adopt(actor=inventory.admin, first=backup, second=primary, site_hostname=inventory.site(0))
    assert inventory.facts() == before
    assert (pair.primary, pair.backup) == (primary, backup)
    assert pair.established_at is not None and pair.broken_at is None
    assert pair.network_method == "shared_ip" and pair.shared_ip == "127.250.0.1"
    assert (pair.backup_host, pair.reverse_host) == (backup.management_host, primary.management_host)
    shared = {a.appliance_id: a.enabled for a in primary.addresses.model.objects.filter(kind=AddressKind.SHARED)}
    assert shared == {primary.pk: True, backup.pk: False}
    primary.refresh_from_db()
    assert (primary.product_version, primary.build) == ("24.3.1", "41234-0123abcd")
    event = AuditEvent.objects.get(verb="adopt")
    assert "nothing was changed" in event.summary
    assert any("lists" in line and "failover peer" in line for line in event.changes["evidence"])
    # Backup settings are known only where the appliance could be read: never a default shown as a reading.
    settings_rows = BackupSettings.objects.filter(appliance__in=[primary, backup])
    if inventory.profile == "vendor":
        assert not settings_rows.exists()
    else:
        assert settings_rows.count() == 2 and all(row.read_from_appliance_at for row in settings_rows)


def test_a_pair_running_on_its_backup_keeps_the_normal_roles_it_is_told(inventory):
    primary, backup = inventory.pair(1)
    before = inventory.facts()
    pair = pair_adopt(actor=inventory.admin, first=primary, second=backup, site_hostname=inventory.site(1),
                      normal_primary=backup)
    assert (pair.primary, pair.backup) == (backup, primary)
    assert inventory.facts() == before


def test_refusals_say_why_and_record_nothing(inventory, org_b):
    sim = inventory.sim
    MembershipFactory(organization=org_b, user=inventory.admin, role=Role.ADMIN)  # an admin of both
    first, second = inventory.pair(0)
    other, third = inventory.pair(1)

    def refused(a, b, **kwargs):
        with pytest.raises(Exception) as caught:
            pair_adopt(actor=inventory.admin, first=a, second=b, site_hostname="x.sim.test", **kwargs)
        return " ".join(getattr(caught.value, "messages", [str(caught.value)]))

    foreign = ApplianceFactory(organization=org_b)
    assert "two organisations" in refused(first, foreign)
    # Partners of two different pairs: each lists its own peer.
    assert "not partners" in refused(first, third)
    sim.set_state(second.management_host, role="primary")
    assert "Both" in refused(first, second) and "primary" in refused(first, second)
    sim.set_state(first.management_host, role="none")
    sim.set_state(second.management_host, role="none")
    assert "Neither" in refused(first, second) and "Establish" in refused(first, second)
    sim.reset()
    sim.set_profile(inventory.profile)
    before = inventory.facts()
    sim.set_fault(third.management_host, "down")
    unreachable = refused(other, third)
    assert "cannot read" in unreachable
    # Worded as every page words a contact failure: a refused connection reads like a silent port, so adoption
    # cannot be used to scan which addresses and ports answer.
    assert "no appliance API answered" in unreachable and "could not connect" not in unreachable.lower()
    sim.clear_faults()
    assert not Pair.objects.exists()
    pair_adopt(actor=inventory.admin, first=first, second=second, site_hostname=inventory.site(0))
    assert "already recorded" in refused(first, second)
    assert inventory.facts() == before


def test_adopting_needs_the_admin_role(inventory, make_member):
    primary, backup = inventory.pair(0)
    operator = make_member(inventory.organization, Role.OPERATOR)
    with pytest.raises(Exception, match="admin"):
        pair_adopt(actor=operator, first=primary, second=backup, site_hostname=inventory.site(0))
    assert not Pair.objects.exists()


def csv_bytes(*rows, header="first,second,site_hostname,normal_primary"):
    return ("\n".join([header, *rows]) + "\n").encode()


def test_csv_adopts_every_row_or_none_with_per_row_errors(inventory):
    a = [inventory.pair(i) for i in range(4)]
    before = inventory.facts()
    bad = csv_bytes(
        f"{a[0][0].name},{a[0][1].name},{inventory.site(0)},",
        f"{a[1][0].name},{a[2][1].name},{inventory.site(1)},",  # members of two different pairs
        f"{a[2][0].name},nobody,{inventory.site(2)},",
        f"{a[3][0].name},{a[3][1].name},{inventory.site(3)},{a[0][0].name}",
    )
    result = pairs_adopt_csv(actor=inventory.admin, organization=inventory.organization, data=bad)
    assert not result.ok and result.created == []
    assert any(e.startswith("Row 4: second: no appliance named") for e in result.errors)
    assert any(e.startswith("Row 5: normal_primary") for e in result.errors)
    assert not Pair.objects.exists()
    rows = [f"{p.name},{b.name},{inventory.site(i)}," for i, (p, b) in enumerate(a)]
    rows[1] = f"{a[1][0].name},{a[1][1].name},{inventory.site(1)},{a[1][1].name}"
    mixed = csv_bytes(*rows[:1], f"{a[1][0].name},{a[2][1].name},{inventory.site(1)},")
    result = pairs_adopt_csv(actor=inventory.admin, organization=inventory.organization, data=mixed)
    assert result.errors == [f"Row 3: {a[1][0].name} lists its failover peer and {a[2][1].name} is not it: these two "
                             "are not partners of one pair."]
    assert not Pair.objects.exists()
    result = pairs_adopt_csv(actor=inventory.admin, organization=inventory.organization, data=csv_bytes(*rows))
    assert result.ok, result.errors
    assert Pair.objects.count() == 4
    assert Pair.objects.get(site_hostname=inventory.site(1)).primary == a[1][1]
    assert inventory.facts() == before


def test_a_csv_costs_the_same_statements_for_two_pairs_as_for_one(inventory):
    """A file of thousands of pairs is written in one transaction while an admin waits for the job: its checks and
    writes take a fixed number of statements (bulk, in batches of a thousand), not a dozen more per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def adopt(indexes):
        rows = [f"{p.name},{b.name},{inventory.site(i)}," for i, (p, b) in ((i, inventory.pair(i)) for i in indexes)]
        with CaptureQueriesContext(connection) as queries:
            result = pairs_adopt_csv(actor=inventory.admin, organization=inventory.organization, data=csv_bytes(*rows))
        assert result.ok, result.errors
        return len(queries)

    adopt([0])  # once first: what a process looks up once (policies, content types) is not the file's cost
    assert adopt([1]) == adopt([2, 3])
    assert Pair.objects.count() == 4
    assert AuditEvent.objects.filter(verb="adopt").count() == 4
    pair = Pair.objects.get(site_hostname=inventory.site(2))
    assert pair.primary.addresses.get(kind=AddressKind.SHARED).enabled
    assert not pair.backup.addresses.get(kind=AddressKind.SHARED).enabled
    assert (pair.primary.product_version, pair.backup.build) == ("24.3.1", "41234-0123abcd")


def test_probes_propose_pairs_by_site_name_or_shared_ip(inventory):
    first, second = inventory.pair(0)
    third, fourth = inventory.pair(1)
    single = inventory.appliances["org-001-single01"]
    for appliance, role, shared in ((first, "primary", ["127.250.0.1"]), (second, "backup", []),
                                    (third, "primary", ["127.250.0.2"]), (fourth, "backup", []),
                                    (single, "none", [])):
        type(appliance).objects.filter(pk=appliance.pk).update(status_role=role, status_shared_ips=shared)
    # Pair 1 by the site name both records carry, pair 2 by the shared IP recorded on the backup.
    type(first).objects.filter(pk__in=[first.pk, second.pk]).update(site_hostname=inventory.site(0))
    fourth.addresses.create(organization=inventory.organization, address="127.250.0.2", prefix_length=32,
                            kind=AddressKind.SHARED, enabled=False)
    proposals = {(p.primary, p.backup): p.reason for p in adoption_proposals(user=inventory.admin)}
    assert set(proposals) == {(first, second), (third, fourth)}
    assert "same site name" in proposals[(first, second)] and "shared IP 127.250.0.2" in proposals[(third, fourth)]
    first.refresh_from_db()
    second.refresh_from_db()
    pair_adopt(actor=inventory.admin, first=first, second=second)  # the site name comes from the records
    assert [(p.primary, p.backup) for p in adoption_proposals(user=inventory.admin)] == [(third, fourth)]
    # Another organisation's member sees nothing of them.
    outsider_org = OrganizationFactory()
    outsider = UserFactory()
    MembershipFactory(organization=outsider_org, user=outsider, role=Role.ADMIN)
    assert adoption_proposals(user=outsider) == []


# -- REST and the browser ------------------------------------------------------------------------------------

@pytest.fixture
def vendor_inventory(fresh_simulator, make_member):
    fresh_simulator.set_profile("vendor")
    inv = Inventory(fresh_simulator, make_member)
    inv.profile = "vendor"
    return inv


def test_rest_adopts_a_vendor_pair_and_explains_refusals(vendor_inventory, api_as, org_b):
    inv = vendor_inventory
    api = api_as(inv.admin)
    primary, backup = inv.pair(0)
    before = inv.facts()
    refused = api.post("/api/v1/pair-adoptions/", {"first": primary.pk, "second": inv.pair(1)[1].pk,
                                                    "site_hostname": inv.site(0)}, format="json")
    assert refused.status_code == 400 and "not partners" in str(refused.json())
    foreign = ApplianceFactory(organization=org_b)
    hidden = api.post("/api/v1/pair-adoptions/", {"first": primary.pk, "second": foreign.pk}, format="json")
    assert hidden.status_code == 400 and "second" in hidden.json()  # another organisation's id does not exist
    response = api.post("/api/v1/pair-adoptions/", {"first": backup.pk, "second": primary.pk,
                                                     "site_hostname": inv.site(0)}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["primary"], body["backup"], body["site_hostname"]) == (primary.pk, backup.pk, inv.site(0))
    assert inv.facts() == before
    viewer = api_as(UserFactory())
    assert viewer.post("/api/v1/pair-adoptions/", {"first": primary.pk, "second": backup.pk},
                       format="json").status_code == 400  # neither id exists for someone outside the organisation


def test_rest_csv_adoption_is_queued_and_all_or_nothing(vendor_inventory, api_as, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    inv = vendor_inventory
    api = api_as(inv.admin)
    (a, b), (c, d) = inv.pair(0), inv.pair(1)
    bad = csv_bytes(f"{a.name},{b.name},{inv.site(0)},", f"{c.name},{a.name},{inv.site(1)},")
    good = csv_bytes(f"{a.name},{b.name},{inv.site(0)},", f"{c.name},{d.name},{inv.site(1)},")

    def adopt(data):
        with django_capture_on_commit_callbacks() as callbacks:
            response = api.post("/api/v1/pair-adoptions/csv/", {"organization": inv.organization.pk,
                                                                 "file": SimpleUploadedFile("p.csv", data)},
                                format="multipart")
        assert response.status_code == 202, response.json()
        assert response.json()["status"] == "queued" and len(callbacks) == 1  # sent to a worker on commit
        run_pair_adoption(response.json()["id"])  # the worker's task
        return api.get(response["Location"]).json()

    job = adopt(bad)
    assert job["status"] == "failed" and job["created_count"] == 0
    assert any(e.startswith("Row 3:") for e in job["errors"])
    assert not Pair.objects.exists()
    foreign = api.post("/api/v1/pair-adoptions/csv/", {"organization": OrganizationFactory().pk,
                                                        "file": SimpleUploadedFile("p.csv", good)}, format="multipart")
    assert foreign.status_code == 400 and "organization" in foreign.json()
    shapeless = api.post("/api/v1/pair-adoptions/csv/", {"organization": inv.organization.pk,
                                                          "file": SimpleUploadedFile("p.csv", b"first\nx\n")},
                         format="multipart")
    assert shapeless.status_code == 400 and "second" in str(shapeless.json()["file"])
    job = adopt(good)
    assert job["status"] == "succeeded" and job["created_count"] == 2, job
    assert set(Pair.objects.values_list("site_hostname", flat=True)) == {inv.site(0), inv.site(1)}
    # Another organisation's member cannot read the job.
    assert api_as(UserFactory()).get(f"/api/v1/pair-adoptions/csv/{job['id']}/").status_code == 404


def test_csv_adoption_in_the_browser_shows_progress_then_the_outcome(vendor_inventory, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    inv = vendor_inventory
    (a, b), (c, d) = inv.pair(0), inv.pair(1)
    client = login(inv.admin)
    response = client.post(reverse("failover:pair_adopt_csv"), {
        "organization": inv.organization.pk,
        "file": SimpleUploadedFile("pairs.csv", csv_bytes(f"{a.name},{b.name},{inv.site(0)},",
                                                          f"{c.name},{d.name},{inv.site(1)},"))})
    job = PairAdoptionImport.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert "Queued" in client.get(response.url).content.decode() and not Pair.objects.exists()
    run_pair_adoption(job.pk)
    page = client.get(response.url).content.decode()
    assert "2 pair(s) created" in page and "Nothing was changed on the appliances" in page
    assert Pair.objects.count() == 2
    assert "pairs.csv" in client.get(reverse("failover:pair_adopt")).content.decode()  # listed as recent
    bad = client.post(reverse("failover:pair_adopt_csv"), {
        "organization": inv.organization.pk, "file": SimpleUploadedFile("x.csv", b"\x00\x01")})
    assert bad.status_code == 400 and "The file is not a CSV text file." in bad.content.decode()
    assert PairAdoptionImport.objects.count() == 1  # nothing queued for a file of the wrong shape


def test_browser_proposes_and_adopts_in_one_click(vendor_inventory, login, api_as):
    inv = vendor_inventory
    primary, backup = inv.pair(0)
    type(primary).objects.filter(pk=primary.pk).update(status_role="primary", site_hostname=inv.site(0))
    type(primary).objects.filter(pk=backup.pk).update(status_role="backup", site_hostname=inv.site(0))
    proposed = api_as(inv.admin).get("/api/v1/pair-adoptions/").json()
    assert [(p["primary"], p["backup"]) for p in proposed] == [(primary.pk, backup.pk)]
    assert api_as(UserFactory()).get("/api/v1/pair-adoptions/").json() == []
    client = login(inv.admin)
    listing = client.get(reverse("failover:pair_list"))
    assert "1 proposed" in listing.content.decode()
    adopt = reverse("failover:pair_adopt")
    page = client.get(adopt).content.decode()
    assert primary.name in page and "same site name" in page
    response = client.post(adopt, {"first": primary.pk, "second": backup.pk})
    pair = Pair.objects.get()
    assert response.status_code == 302 and response["Location"] == pair.get_absolute_url()
    assert (pair.primary, pair.backup, pair.site_hostname) == (primary, backup, inv.site(0))
    # Adopting the same two again: the page says why, nothing new is recorded.
    again = client.post(adopt, {"first": primary.pk, "second": backup.pk})
    assert again.status_code == 400 and "already recorded" in again.content.decode()
    assert Pair.objects.count() == 1


def test_the_demo_leaves_a_vendor_pair_per_organisation_to_adopt(simulator, db):
    from simulator.fleet import generate_fleet

    fleet = generate_fleet(1, 3, 0, vendor_pairs_per_org=2)
    loaded = fleet_load(actor=SYSTEM, fleet=fleet, ca_pem=Path(simulator.ca_path).read_text(), port=simulator.port,
                        pairs=True, vendor_pairs_to_adopt=1)
    assert set(loaded.pairs) == {"org-001-pair01-a", "org-001-pair03-a"}  # pair02: the first vendor pair
    for name in ("org-001-pair02-a", "org-001-pair02-b"):
        loaded.appliances[name].refresh_from_db()
        assert loaded.appliances[name].site_hostname == "pair02.org-001.sim.test"
        assert not Pair.objects.filter(primary=loaded.appliances[name]).exists()


def test_an_overlong_version_reported_by_an_appliance_is_cut_as_the_probes_cut_it(inventory):
    """The appliance's answer is untrusted input: a version or build longer than the inventory's columns is kept
    cut to them (as probing keeps it), not refused with a column-size error halfway through the adoption."""
    primary, backup = inventory.pair(0)
    version, build = "24." * 20, "9" * 200
    for appliance in (primary, backup):
        inventory.sim.set_state(appliance.management_host, version=version, build=build)
    pair_adopt(actor=inventory.admin, first=primary, second=backup, site_hostname=inventory.site(0))
    primary.refresh_from_db()
    assert (primary.product_version, primary.build) == (version[:32], build[:64])
