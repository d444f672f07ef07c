import pytest
from rest_framework.test import APIClient

from portal.models import Role
from portal.services.tokens import api_token_create

from .conftest_simulator import *  # noqa: F401,F403  (simulator fixtures, shared by every test package)
from .factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def org_a(db):
    return OrganizationFactory(name="Alpha Corp", slug="alpha")


@pytest.fixture
def org_b(db):
    return OrganizationFactory(name="Bravo Ltd", slug="bravo")


@pytest.fixture
def make_member(db):
    """make_member(organization, role) -> a user with that role there."""

    def make(organization, role=Role.VIEWER, **user_fields):
        user = UserFactory(**user_fields)
        MembershipFactory(organization=organization, user=user, role=role)
        return user

    return make


@pytest.fixture
def platform_operator(db):
    return UserFactory(username="platform-op", is_platform_operator=True)


@pytest.fixture
def login(client):
    def do(user):
        client.force_login(user)
        return client

    return do


@pytest.fixture
def api_as(db):
    """api_as(user) -> an APIClient authenticated with a real API token of that user."""

    def make(user):
        _, token = api_token_create(actor=user, name="tests")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api

    return make
