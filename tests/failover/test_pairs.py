"""The pair pages in the browser: what a person sees and may do, against the simulator."""

import pytest

from failover.models import BackupSettings, Operation, OperationKind, OperationStatus, Pair
from failover.operations import run_operation
from failover.services.advice import advice_sweep
from portal.models import AuditEvent, Role
from tests.factories import ApplianceFactory, BackupSettingsFactory, PairFactory
from tests.failover.operations.conftest import ops_fleet  # noqa: F401  (fixture)


def test_pair_page_shows_the_failover_page_for_the_pair(ops_fleet, make_member, login):  # noqa: F811
    pair = ops_fleet.pair
    page = login(make_member(ops_fleet.organization, Role.OPERATOR)).get(pair.get_absolute_url())
    body = page.content.decode()
    assert page.status_code == 200
    for expected in (pair.site_hostname, pair.primary.name, pair.backup.name, "Sync now", "Become backup",
                     "Become primary", "Become backup even if the peer cannot be contacted", "Pull a data sync",
                     "Shared IPs", "Backup settings", "Sync history", f'id="pair-status-{pair.pk}"'):
        assert expected in body, expected
    assert "Break relationship" not in body  # admin only
    assert "Fix this error" not in body  # only offered when the roles conflict


def test_pair_page_offers_fix_this_error_when_both_report_primary(ops_fleet, make_member, login):  # noqa: F811
    pair = ops_fleet.pair
    type(pair.primary).objects.filter(pk__in=[pair.primary_id, pair.backup_id]).update(status_role="primary")
    body = login(make_member(ops_fleet.organization, Role.OPERATOR)).get(pair.get_absolute_url()).content.decode()
    assert 'id="conflict-warning"' in body and "Fix this error" in body


def test_viewer_sees_no_action_and_cannot_post_one(ops_fleet, make_member, login):  # noqa: F811
    pair = ops_fleet.pair
    client = login(make_member(ops_fleet.organization, Role.VIEWER))
    body = client.get(pair.get_absolute_url()).content.decode()
    assert "Sync now" not in body and "actions need the operator role" in body
    assert client.post(f"/failover/pairs/{pair.pk}/sync/").status_code == 403
    assert client.post(f"/failover/pairs/{pair.pk}/become-backup/", {"appliance": pair.primary_id}).status_code == 403
    assert not Operation.objects.filter(pair=pair).exists()


def test_operator_starts_a_swap_from_the_page_and_sees_its_live_progress(ops_fleet, make_member, login):  # noqa: F811
    pair = ops_fleet.pair
    client = login(make_member(ops_fleet.organization, Role.OPERATOR))
    response = client.post(f"/failover/pairs/{pair.pk}/become-backup/",
                           {"appliance": pair.primary_id, "sync_first": "on", "reason": "patching"})
    assert response.status_code == 302
    operation = Operation.objects.get(pair=pair)
    assert operation.params["sync_first"] is True and operation.params["force"] is False
    assert operation.appliance_id == pair.primary_id
    audit = AuditEvent.objects.get(object_type="failover.operation", object_id=str(operation.pk), verb="start become_backup")
    assert audit.actor_name == operation.requested_by.username and "patching" in audit.summary
    page = client.get(pair.get_absolute_url()).content.decode()
    assert f'hx-get="/failover/operations/{operation.pk}/card/"' in page  # polls while active
    assert "disabled" in page.split("Sync now")[0].rsplit("<form", 1)[1]  # one operation at a time
    run_operation(operation.pk)
    card = client.get(f"/failover/operations/{operation.pk}/card/").content.decode()
    assert "Succeeded" in card and "hx-get" not in card  # stops polling once finished
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("backup", "primary")


def test_other_organisation_gets_404_on_every_pair_page(ops_fleet, make_member, login, org_b):  # noqa: F811
    pair = ops_fleet.pair
    client = login(make_member(org_b, Role.ADMIN))
    for path in ("", "edit/", "delete/", "establish/", "shared-ips/"):
        assert client.get(f"/failover/pairs/{pair.pk}/{path}").status_code == 404, path
    for path in ("sync/", "break/", "fix-conflict/", "become-primary/"):
        assert client.post(f"/failover/pairs/{pair.pk}/{path}", {"appliance": pair.primary_id}).status_code == 404


def test_establish_page_shows_the_checks_in_plain_words(ops_fleet, make_member, login):  # noqa: F811
    fleet = ops_fleet
    assert fleet.start_and_run(OperationKind.BREAK).status == OperationStatus.SUCCEEDED
    fleet.set_state(fleet.pair.backup, version="25.1.0")
    client = login(make_member(fleet.organization, Role.ADMIN))
    body = client.get(f"/failover/pairs/{fleet.pair.pk}/establish/").content.decode()
    assert "Both must run the same version and build" in body
    assert 'name="idempotency_key"' in body  # submitting the form twice establishes once
    response = client.post(f"/failover/pairs/{fleet.pair.pk}/establish/", {"reason": "try"})
    assert response.status_code == 200 and "same version and build" in response.content.decode()
    assert not Operation.objects.filter(kind=OperationKind.ESTABLISH).exists()


def test_backup_settings_form_gives_field_errors_and_applies_valid_settings(ops_fleet, make_member, login):  # noqa: F811
    settings_row = ops_fleet.pair.backup.backup_settings
    client = login(make_member(ops_fleet.organization, Role.ADMIN))
    url = f"/failover/backup-settings/{settings_row.pk}/edit/"
    bad = client.post(url, {"primary_timeout": 1, "sync_interval": 5, "bandwidth_limit": -1,
                            "connectivity_test_ips": "10.0.0.1, not-an-ip"})
    assert bad.status_code == 200
    errors = bad.context["form"].errors
    assert {"primary_timeout", "sync_interval", "bandwidth_limit", "connectivity_test_ips"} <= set(errors)
    good = client.post(url, {"enable_backup_operations": "on", "primary_timeout": 600, "sync_interval": 1800,
                             "bandwidth_limit": 0, "connectivity_test_ips": "127.1.0.1 127.1.0.2"})
    assert good.status_code == 302 and good.url == ops_fleet.pair.get_absolute_url()
    assert ops_fleet.state(ops_fleet.pair.backup)["settings"]["connectivity_test_ips"] == ["127.1.0.1", "127.1.0.2"]
    settings_row.refresh_from_db()
    assert settings_row.sync_interval == 1800 and settings_row.read_from_appliance_at is not None


def test_admin_adds_a_pair_with_the_form(org_a, make_member, login):
    admin = make_member(org_a, Role.ADMIN)
    primary, backup = ApplianceFactory(organization=org_a), ApplianceFactory(organization=org_a)
    foreign = ApplianceFactory()
    data = {"organization": org_a.pk, "site_hostname": "access.alpha.test", "primary": primary.pk,
            "backup": foreign.pk, "network_method": "shared_ip", "shared_ip": "", "dns_port": 53, "dns_ttl": 60,
            "dns_tsig_algorithm": "hmac-sha256", "nat_public_port": 443, "backup_host": "10.0.0.2",
            "backup_port": 443, "reverse_host": "10.0.0.1", "reverse_port": 443, "sync_stale_after": 93600}
    client = login(admin)
    response = client.post("/failover/pairs/add/", data)
    assert response.status_code == 200
    assert {"backup", "shared_ip"} <= set(response.context["form"].errors)
    response = client.post("/failover/pairs/add/", {**data, "backup": backup.pk, "shared_ip": "10.0.0.10"})
    assert response.status_code == 302
    pair = Pair.objects.get(site_hostname="access.alpha.test")
    assert BackupSettings.objects.filter(appliance__in=pair.members).count() == 2


def pairs_with_a_finding(organization, count: int) -> None:
    """``count`` pairs whose primary has backup operations on (the finding "primary_backup_operations"), their
    findings stored as the beat sweep leaves them."""
    for _ in range(count):
        pair = PairFactory(organization=organization)
        BackupSettingsFactory(appliance=pair.primary, enable_backup_operations=True)
    advice_sweep()


@pytest.mark.django_db
def test_pair_list_and_advice_pages_hold_a_constant_number_of_queries(org_a, make_member, login,
                                                                     django_assert_max_num_queries):
    client = login(make_member(org_a, Role.VIEWER))
    pairs_with_a_finding(org_a, 15)
    with django_assert_max_num_queries(12):
        assert client.get("/failover/pairs/").status_code == 200
    with django_assert_max_num_queries(12):
        body = client.get("/failover/advice/").content.decode()
    assert body.count('data-code="primary_backup_operations"') == 15
    with django_assert_max_num_queries(12):
        assert client.get("/failover/operations/").status_code == 200


def test_a_double_submitted_action_form_starts_one_operation(ops_fleet, make_member, login):  # noqa: F811
    pair = ops_fleet.pair
    client = login(make_member(ops_fleet.organization, Role.OPERATOR))
    page = client.get(pair.get_absolute_url()).content.decode()
    sync_form = page.split(f'action="/failover/pairs/{pair.pk}/sync/"', 1)[1].split("</form>", 1)[0]
    key = sync_form.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    first = client.post(f"/failover/pairs/{pair.pk}/sync/", {"idempotency_key": key}, follow=True)
    again = client.post(f"/failover/pairs/{pair.pk}/sync/", {"idempotency_key": key}, follow=True)
    for response in (first, again):
        assert [m.level_tag for m in response.context["messages"]] == ["success"]  # no "already running" error
    assert Operation.objects.filter(pair=pair).count() == 1
    # The next rendering carries a new key: a new click is a new request.
    assert key not in client.get(pair.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_pair_configuration_needs_the_admin_role_whoever_calls_the_service(org_a, make_member):
    from django.core.exceptions import PermissionDenied

    from failover.services.pairs import backup_settings_update, pair_create, pair_update, shared_ips_set

    operator = make_member(org_a, Role.OPERATOR)
    pair = PairFactory(organization=org_a)
    settings_row = BackupSettingsFactory(appliance=pair.backup)
    primary, backup = ApplianceFactory(organization=org_a), ApplianceFactory(organization=org_a)
    attempts = [
        lambda: pair_create(actor=operator, organization=org_a, site_hostname="x.example.com", primary=primary,
                            backup=backup, shared_ip="10.0.0.9", backup_host="10.0.0.2", reverse_host="10.0.0.1"),
        lambda: pair_update(actor=operator, pair=pair, data={"site_hostname": "renamed.example.com"}),
        lambda: backup_settings_update(actor=operator, backup_settings=settings_row, data={"sync_interval": 0},
                                       apply=False),
        lambda: shared_ips_set(actor=operator, appliance=pair.primary, ips=["10.0.0.50"]),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    pair.refresh_from_db()
    settings_row.refresh_from_db()
    assert pair.site_hostname != "renamed.example.com" and settings_row.sync_interval != 0
    assert not Pair.objects.filter(site_hostname="x.example.com").exists()


def test_an_established_pair_is_not_deleted_from_the_page(ops_fleet, make_member, login):  # noqa: F811
    pair = ops_fleet.pair
    client = login(make_member(ops_fleet.organization, Role.ADMIN))
    response = client.post(f"/failover/pairs/{pair.pk}/delete/", follow=True)
    assert "break it first" in response.content.decode()
    assert Pair.objects.filter(pk=pair.pk).exists()


@pytest.mark.django_db
def test_the_advice_page_groups_findings_by_rule_with_counts_and_pages_them(org_a, make_member, login):
    client = login(make_member(org_a, Role.VIEWER))
    pairs_with_a_finding(org_a, 60)

    first = client.get("/failover/advice/?code=primary_backup_operations").content.decode()
    second = client.get("/failover/advice/?code=primary_backup_operations&page=2").content.decode()

    group = first.split('data-group="primary_backup_operations"', 1)[1].split("</tr>", 1)[0]
    assert ">60<" in group.replace(" ", "")
    assert first.count('data-code="primary_backup_operations"') == 50
    assert second.count('data-code="primary_backup_operations"') == 10
    assert "?code=primary_backup_operations&page=2" in first  # the filter is kept across pages
