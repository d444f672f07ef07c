"""Two admins demote each other at the same moment, on two database connections: one change wins, the other is
refused, and the organisation keeps an admin."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from portal.models import Membership, Role
from portal.services.organizations import membership_change_role, membership_remove
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory


def _backends_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _race(first_change, second_change):
    """Run ``first_change`` in a transaction held open until ``second_change`` (on another connection) has either
    finished or is waiting for a lock; then commit the first and let the second go on."""
    first_done, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first():
        try:
            with transaction.atomic():
                first_change()
                first_done.set()
                release.wait(timeout=30)
            outcomes["first"] = "ok"
        except ValidationError as exc:
            outcomes["first"] = exc
        finally:
            first_done.set()
            connections.close_all()

    def second():
        try:
            second_change()
            outcomes["second"] = "ok"
        except ValidationError as exc:
            outcomes["second"] = exc
        finally:
            connections.close_all()

    one, two = threading.Thread(target=first), threading.Thread(target=second)
    one.start()
    assert first_done.wait(timeout=30)
    two.start()
    for _ in range(300):  # until the second change finished, or blocks behind the first (pg_stat_activity says)
        if not two.is_alive() or _backends_waiting_on_a_lock():
            break
        two.join(timeout=0.05)
    release.set()
    one.join(timeout=30)
    two.join(timeout=30)
    return outcomes


@pytest.fixture
def two_admins(transactional_db):
    organization = OrganizationFactory(slug="race")
    alice = MembershipFactory(organization=organization, user=UserFactory(username="alice"), role=Role.ADMIN)
    bob = MembershipFactory(organization=organization, user=UserFactory(username="bob"), role=Role.ADMIN)
    return organization, alice, bob


def test_two_admins_demoting_each_other_at_once_leave_one_admin(two_admins):
    organization, alice, bob = two_admins
    outcomes = _race(
        lambda: membership_change_role(actor=alice.user, membership=Membership.objects.get(pk=bob.pk), role=Role.VIEWER),
        lambda: membership_change_role(actor=bob.user, membership=Membership.objects.get(pk=alice.pk), role=Role.VIEWER),
    )
    assert outcomes["first"] == "ok"
    assert isinstance(outcomes["second"], ValidationError)
    assert "at least one admin" in str(outcomes["second"])
    assert list(Membership.objects.filter(organization=organization, role=Role.ADMIN).values_list(
        "user__username", flat=True)) == ["alice"]


def test_two_admins_removing_each_other_at_once_leave_one_admin(two_admins):
    organization, alice, bob = two_admins
    outcomes = _race(
        lambda: membership_remove(actor=alice.user, membership=Membership.objects.get(pk=bob.pk)),
        lambda: membership_remove(actor=bob.user, membership=Membership.objects.get(pk=alice.pk)),
    )
    assert outcomes["first"] == "ok" and isinstance(outcomes["second"], ValidationError)
    assert Membership.objects.filter(organization=organization, role=Role.ADMIN).count() == 1
