"""Members join by invitation: an admin invites an email address, the person with the link accepts by signing
in or by creating an account. Nobody looks up the platform's users, and nothing tells one organisation about
another's people, names or slugs."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portal.models import AuditEvent, Invitation, Membership, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org_a, make_member):
    return make_member(org_a, Role.ADMIN, username="alpha-admin")


def _link(text: str) -> str:
    return re.search(r"(/invitations/[\w-]+/)", text).group(1)


def test_an_admin_invites_over_rest_and_the_person_signs_up_through_the_emailed_link(
        org_a, admin, api_as, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(admin).post("/api/v1/invitations/", {"organization": org_a.pk, "email": "New.Person@example.com",
                                                              "role": Role.OPERATOR}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending" and response.json()["accept_url"]
    assert [m.to for m in mail.outbox] == [["new.person@example.com"]]
    link = _link(mail.outbox[0].body)
    assert link in response.json()["accept_url"]
    # Listed afterwards without the link: it was shown once.
    assert api_as(admin).get("/api/v1/invitations/").json()["results"][0]["accept_url"] is None

    page = client.get(link)
    assert page.status_code == 200 and "Join Alpha Corp" in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    joined = client.post(link, {"username": "newperson", "password1": "a-long-pass-phrase-9",
                                "password2": "a-long-pass-phrase-9"})
    assert joined.status_code == 302
    user = User.objects.get(username="newperson")
    assert user.email == "new.person@example.com"
    assert Membership.objects.get(user=user, organization=org_a).role == Role.OPERATOR
    verbs = set(AuditEvent.objects.filter(organization=org_a, object_type="portal.invitation").values_list("action", "verb"))
    assert {("create", ""), ("action", "accept")} <= verbs

    # Single use: the same link again, signed in or not, is just "not valid".
    again = client.get(link)
    assert again.status_code == 404 and "not valid" in again.content.decode()


def test_an_existing_account_signs_in_and_accepts_in_the_ui(org_a, admin, login, client):
    existing = UserFactory(username="already-here")
    admin_client = login(admin)
    response = admin_client.post("/members/invite/", {"organization": org_a.pk, "email": "x@example.com",
                                                      "role": Role.VIEWER})
    assert response.status_code == 302
    listing = admin_client.get("/members/invitations/").content.decode()
    link = _link(listing)
    assert link not in admin_client.get("/members/invitations/").content.decode()  # shown once
    client.force_login(existing)
    assert client.post(link).status_code == 302
    assert Membership.objects.filter(user=existing, organization=org_a, role=Role.VIEWER).exists()


@pytest.mark.parametrize("state", ["expired", "revoked", "made up"])
def test_a_link_that_is_not_pending_answers_the_same_and_creates_nothing(org_a, admin, api_as, client, state):
    response = api_as(admin).post("/api/v1/invitations/", {"organization": org_a.pk, "email": "late@example.com",
                                                          "role": Role.ADMIN}, format="json")
    link = _link(response.json()["accept_url"])
    invitation = Invitation.objects.get()
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        assert api_as(admin).delete(f"/api/v1/invitations/{invitation.pk}/").status_code == 204
        assert AuditEvent.objects.filter(object_type="portal.invitation", verb="revoke").exists()
    else:
        link = "/invitations/" + "x" * 43 + "/"
    answer = client.post(link, {"username": "sneaky", "password1": "a-long-pass-phrase-9",
                                "password2": "a-long-pass-phrase-9"})
    assert answer.status_code == 404
    assert not User.objects.filter(username="sneaky").exists()
    assert not Membership.objects.filter(organization=org_a, role=Role.ADMIN).exclude(user=admin).exists()


def test_no_path_adds_an_existing_user_by_name(org_a, org_b, admin, api_as, login, make_member):
    outsider = make_member(org_b, Role.VIEWER, username="bravo-person", email="secret-person@bravo.example")
    api = api_as(admin)
    created = api.post("/api/v1/memberships/", {"organization": org_a.pk, "user": outsider.username,
                                                "role": Role.VIEWER}, format="json")
    assert created.status_code == 405
    assert login(admin).get("/members/add/").status_code == 404
    assert not Membership.objects.filter(user=outsider, organization=org_a).exists()
    # Nothing about another organisation's people in any membership answer.
    listing = api.get("/api/v1/memberships/").content.decode() + login(admin).get("/members/").content.decode()
    assert "bravo-person" not in listing and "secret-person" not in listing


def test_a_viewer_sees_no_invitations_and_cannot_invite(org_a, admin, make_member, api_as):
    api_as(admin).post("/api/v1/invitations/", {"organization": org_a.pk, "email": "p@example.com"}, format="json")
    viewer = api_as(make_member(org_a, Role.VIEWER))
    assert viewer.get("/api/v1/invitations/").json()["count"] == 0
    denied = viewer.post("/api/v1/invitations/", {"organization": org_a.pk, "email": "q@example.com"}, format="json")
    assert denied.status_code == 400 and "organization" in denied.json()


def test_an_organisation_admin_cannot_probe_other_organisations_names_or_slugs(org_a, org_b, admin, api_as, login):
    response = api_as(admin).patch(f"/api/v1/organizations/{org_a.pk}/", {"slug": org_b.slug, "name": org_b.name},
                                   format="json")
    assert response.status_code == 200
    assert "bravo" not in response.content.decode()
    org_a.refresh_from_db()
    assert org_a.slug == "alpha"
    page = login(admin).post(f"/organizations/{org_a.pk}/edit/", {"name": org_b.name, "slug": org_b.slug,
                                                                  "alert_recipients": "noc@example.com"})
    assert page.status_code == 302
    org_a.refresh_from_db()
    assert (org_a.name, org_a.slug, org_a.alert_recipients) == ("Alpha Corp", "alpha", "noc@example.com")


def test_platform_operators_still_name_organisations(org_a, org_b, platform_operator, api_as):
    response = api_as(platform_operator).patch(f"/api/v1/organizations/{org_a.pk}/", {"slug": "alpha-2"}, format="json")
    assert response.status_code == 200 and response.json()["slug"] == "alpha-2"


def test_alert_recipients_are_validated_the_same_over_rest_and_in_the_form(org_a, admin, api_as, login):
    bad = "noc@example.com\nnot an address"
    response = api_as(admin).patch(f"/api/v1/organizations/{org_a.pk}/", {"alert_recipients": bad}, format="json")
    assert response.status_code == 400
    assert response.json()["alert_recipients"] == ["“not an address” is not an email address."]
    page = login(admin).post(f"/organizations/{org_a.pk}/edit/", {"alert_recipients": bad})
    assert "“not an address” is not an email address." in page.content.decode()
    org_a.refresh_from_db()
    assert org_a.alert_recipients == "noc@example.com"
