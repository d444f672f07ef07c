"""Every service checks who acts, whoever calls it (a page, the API, a task, a command): a role too low is refused,
``actor=None`` is refused like an anonymous user, and the portal acting on its own names itself (SYSTEM)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from appliances.models import Appliance
from appliances.services import address_create, appliance_create, appliance_delete, appliance_update
from failover.models import OperationKind
from failover.services.operations import operation_start
from portal.models import AuditEvent, Membership, Role
from portal.permissions import SYSTEM
from portal.services.invitations import invitation_create
from portal.services.organizations import membership_change_role, organization_create
from tests.factories import ApplianceFactory, MembershipFactory, PairFactory, UserFactory

pytestmark = pytest.mark.django_db

APPLIANCE = {"name": "edge-1", "management_host": "127.0.0.50", "tls_pin": "ab" * 32}


@pytest.mark.parametrize("actor_role", [None, Role.VIEWER, Role.OPERATOR])
def test_inventory_writes_need_an_admin(org_a, make_member, actor_role):
    actor = make_member(org_a, actor_role) if actor_role else None
    appliance = ApplianceFactory(organization=org_a)
    with pytest.raises(PermissionDenied):
        appliance_create(actor=actor, organization=org_a, **APPLIANCE)
    with pytest.raises(PermissionDenied):
        appliance_update(actor=actor, appliance=appliance, data={"name": "renamed"})
    with pytest.raises(PermissionDenied):
        address_create(actor=actor, appliance=appliance, address="127.0.0.51")
    with pytest.raises(PermissionDenied):
        appliance_delete(actor=actor, appliance=appliance)
    assert Appliance.objects.filter(organization=org_a).count() == 1
    assert Appliance.objects.get(pk=appliance.pk).name == appliance.name


def test_the_system_acts_and_is_audited_as_the_system(org_a):
    appliance = appliance_create(actor=SYSTEM, organization=org_a, **APPLIANCE)
    event = AuditEvent.objects.get(object_type="appliances.appliance", object_id=str(appliance.pk))
    assert event.actor is None and event.actor_name == "system"


def test_an_admin_of_another_organisation_cannot_write_here(org_a, org_b, make_member):
    with pytest.raises(PermissionDenied):
        appliance_create(actor=make_member(org_b, Role.ADMIN), organization=org_a, **APPLIANCE)


def test_membership_changes_need_an_admin_and_organisations_a_platform_operator(org_a, make_member, platform_operator):
    operator = make_member(org_a, Role.OPERATOR)

    def invite(actor):
        return invitation_create(actor=actor, organization=org_a, email="new@example.com", accept_url_for=str)[0]

    with pytest.raises(PermissionDenied):
        invite(operator)
    with pytest.raises(PermissionDenied):
        membership_change_role(actor=operator, membership=Membership.objects.get(user=operator), role=Role.ADMIN)
    assert invite(make_member(org_a, Role.ADMIN)).role == Role.VIEWER
    with pytest.raises(PermissionDenied):
        organization_create(actor=make_member(org_a, Role.ADMIN), name="Gamma")
    assert organization_create(actor=platform_operator, name="Gamma").slug == "gamma"


def test_operations_need_their_role_and_automatic_failover_is_the_systems(org_a, make_member):
    pair = PairFactory(organization=org_a)
    MembershipFactory(organization=org_a, user=(viewer := UserFactory()), role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        operation_start(actor=viewer, pair=pair, kind=OperationKind.SYNC)
    with pytest.raises(PermissionDenied):
        operation_start(actor=None, pair=pair, kind=OperationKind.SYNC)
    with pytest.raises(ValidationError, match="policy"):
        operation_start(actor=make_member(org_a, Role.ADMIN), pair=pair, kind=OperationKind.AUTO_FAILOVER)
