"""Brute-force protection: the web sign-in and the Django admin's lock a username out after repeated wrong
passwords (django-axes), the lockout is audited, and the API answers 429 over its rate.

Before, 30 wrong passwords followed by the right one signed in, on both forms, and the API had no throttle."""

import uuid

import pytest
from django.core.cache import cache

from portal.models import AuditEvent, Role
from portal.services.audit import LOCKOUT_VERB
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


def sign_in(client, url, username, password):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR="198.51.100.7")


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, url):
    user = UserFactory(is_platform_operator=True, is_staff=True)
    for _ in range(30):
        response = sign_in(client, url, user.username, "wrong-password")
        assert response.status_code in (200, 429)
    response = sign_in(client, url, user.username, PASSWORD)
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(verb=LOCKOUT_VERB)
    assert event.object_repr == user.username and "198.51.100.7" in event.summary and url in event.summary
    # The same user from another address is not locked out (the lockout is per username and address).
    response = client.post(url, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.8")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_few_wrong_passwords_then_the_right_one_signs_in(client, settings):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "/login/", user.username, "wrong-password").status_code == 200
    assert sign_in(client, "/login/", user.username, PASSWORD).status_code == 302
    assert not AuditEvent.objects.filter(verb=LOCKOUT_VERB).exists()


def test_behind_the_proxy_the_lockout_follows_the_forwarded_client_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # The client's own X-Forwarded-For entry (left) is ignored; the proxy's (right) names the client.
        client.post("/login/", {"username": user.username, "password": "nope"}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"10.9.9.{uuid.uuid4().int % 200}, 203.0.113.5")
    locked = client.post("/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                         HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    other_client = client.post("/login/", {"username": user.username, "password": PASSWORD},
                               REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other_client.status_code == 302


@pytest.fixture
def production_rates(settings):
    settings.API_THROTTLE_RATES = {"anon": "3/minute", "user": "5/minute"}


def forget_throttle_history(scope, ident):
    # Counters live in Redis for a minute: a previous run's (same user id in a recreated test database) is not
    # this test's.
    cache.delete(f"throttle_{scope}_{ident}")


def test_api_answers_429_past_the_user_rate(production_rates, api_as, org_a, make_member):
    user = make_member(org_a, Role.VIEWER)
    forget_throttle_history("user", user.pk)
    api = api_as(user)
    statuses = [api.get("/api/v1/appliances/").status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    response = api.get("/api/v1/appliances/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"].lower()


def test_anonymous_api_requests_are_throttled_per_address(production_rates, client, settings):
    # Anonymous requests reach a view only where it allows them: the schema, when the setting opens it.
    settings.API_DOCS_PUBLIC = True
    forget_throttle_history("anon", "192.0.2.44")
    forget_throttle_history("anon", "192.0.2.45")
    statuses = [client.get("/api/schema/", REMOTE_ADDR="192.0.2.44").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/schema/", REMOTE_ADDR="192.0.2.45").status_code == 200
