"""API tokens: shown once, stored hashed, revocable, expiring, acting with the owner's roles."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal.models import ApiToken, Role
from portal.services.tokens import api_token_create


def client_with(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_token_created_in_ui_is_shown_once_and_stored_hashed(org_a, make_member, login):
    user = make_member(org_a, Role.VIEWER)
    client = login(user)
    page = client.post("/tokens/", {"name": "monitoring"}).content.decode()
    token = page.split('id="new-token" class="user-select-all">')[1].split("<")[0]
    assert token.startswith("fpt_")
    stored = ApiToken.objects.get(user=user)
    assert token.split("_", 2)[2] not in stored.secret_hash
    assert token not in client.get("/tokens/").content.decode()
    assert client_with(token).get("/api/v1/me/").json()["username"] == user.username


def test_revoked_expired_and_forged_tokens_are_refused(org_a, make_member, login):
    user = make_member(org_a, Role.VIEWER)
    token_row, token = api_token_create(actor=user, name="t")
    assert client_with(token).get("/api/v1/appliances/").status_code == 200
    assert client_with(token[:-2] + "xx").get("/api/v1/appliances/").status_code == 401
    assert client_with("garbage").get("/api/v1/appliances/").status_code == 401
    login(user).post(f"/tokens/{token_row.pk}/revoke/")
    assert client_with(token).get("/api/v1/appliances/").status_code == 401
    expiring, expiring_token = api_token_create(actor=user, name="short", expires_at=timezone.now() + timedelta(hours=1))
    assert client_with(expiring_token).get("/api/v1/appliances/").status_code == 200
    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client_with(expiring_token).get("/api/v1/appliances/").status_code == 401


def test_expiry_in_the_past_is_a_field_error(org_a, make_member, login):
    user = make_member(org_a, Role.VIEWER)
    response = login(user).post("/tokens/", {"name": "old", "expires_at": "2001-01-01T00:00"})
    assert "must be in the future" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_token_cannot_be_revoked_by_someone_else(org_a, make_member, login):
    owner = make_member(org_a, Role.ADMIN)
    token_row, token = api_token_create(actor=owner, name="t")
    other = make_member(org_a, Role.ADMIN)
    assert login(other).post(f"/tokens/{token_row.pk}/revoke/").status_code == 404
    assert client_with(token).get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize("header", ["Token", "Token a b", "Bearer fpt_only"])
def test_malformed_authorization_headers_get_401_not_500(header, db):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    assert api.get("/api/v1/appliances/").status_code == 401
