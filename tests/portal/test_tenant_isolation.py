"""Tenant isolation, proven on every route: a member of Bravo gets 404 on Alpha's objects, cannot create into
Alpha, and never sees Alpha's rows in lists; a platform operator sees both. Routes are discovered from the
URLconf, and each model needs an entry in ``tests.tenant_registry`` (the test fails if one is missing)."""

from pathlib import Path

import pytest
from django.apps import apps

from portal.models import Role
from tests.routes import portal_routes
from tests.tenant_registry import ALPHA_MARKER, REGISTRY, make_alpha_world

pytestmark = pytest.mark.django_db

ROUTES = portal_routes()
OBJECT_ROUTES = [r for r in ROUTES if r.takes_pk]
LIST_ROUTES = [r for r in ROUTES if not r.takes_pk]
#: Create endpoints that name no model (they read appliances before creating anything, so a generic payload cannot
#: succeed): each names the test module that proves another organisation's ids are refused there.
SCOPED_ELSEWHERE = {
    "api/v1/^pair-adoptions/$": "tests/failover/test_adoption.py",
    "api/v1/^pair-adoptions/csv/$": "tests/failover/test_adoption.py",
}


def test_every_tenant_model_and_routed_model_is_registered():
    tenant_models = {m for m in apps.get_models() if hasattr(m, "tenant_lookup")}
    routed = {r.model for r in OBJECT_ROUTES} | {r.model for r in LIST_ROUTES if r.model is not None}
    missing = {m._meta.label for m in (tenant_models | routed) if m is not None and m not in REGISTRY}
    assert not missing, f"add these models to tests/tenant_registry.py: {sorted(missing)}"
    unknown = [r.pattern for r in OBJECT_ROUTES if r.model is None]
    assert not unknown, f"these routes take an object id but name no model: {unknown}"


@pytest.fixture
def world(org_a, org_b, make_member, platform_operator):
    alpha = make_alpha_world(org_a)
    bravo_admin = make_member(org_b, Role.ADMIN, username="bravo-admin")
    make_alpha_world(org_b, marker="bravo-own-rows")
    return alpha, bravo_admin


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.pattern)
def test_other_organisations_object_answers_404(route, world, client, api_as):
    alpha, bravo_admin = world
    obj = alpha[route.model]
    if route.is_api:
        api = api_as(bravo_admin)
        for method in ("get", "patch", "put", "delete", "post"):
            response = getattr(api, method)(route.url(obj.pk), {}, format="json")
            assert response.status_code in (404, 405), (method, route.pattern, response.status_code)
        assert route.model.objects.filter(pk=obj.pk).exists()
    else:
        client.force_login(bravo_admin)
        for method in ("get", "post"):
            response = getattr(client, method)(route.url(obj.pk))
            assert response.status_code in (404, 405), (method, route.pattern, response.status_code)
        assert route.model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.pattern)
def test_platform_operator_reaches_every_organisations_object(route, world, platform_operator, client, api_as):
    alpha, _ = world
    obj = alpha[route.model]
    if REGISTRY[route.model].owner_only:
        # A personal object (an API token) is its owner's alone, even for a platform operator.
        client.force_login(platform_operator)
        assert client.post(route.url(obj.pk)).status_code == 404
        return
    if route.is_api:
        if "get" in route.api_actions:
            assert api_as(platform_operator).get(route.url(obj.pk)).status_code == 200
    else:
        client.force_login(platform_operator)
        response = client.get(route.url(obj.pk))
        assert response.status_code in (200, 405), (route.pattern, response.status_code)


READABLE_LIST_ROUTES = [
    r for r in LIST_ROUTES if not r.is_api or "get" in r.api_actions or not getattr(r.callback, "cls", None)
]


@pytest.mark.parametrize("route", READABLE_LIST_ROUTES, ids=lambda r: r.pattern)
def test_lists_never_show_another_organisations_rows(route, world, platform_operator, client, api_as):
    _, bravo_admin = world
    if route.is_api:
        response = api_as(bravo_admin).get(route.url())
    else:
        client.force_login(bravo_admin)
        response = client.get(route.url())
    if response.status_code != 200:
        assert response.status_code in (302, 403, 405), (route.pattern, response.status_code)
        return
    body = response.content.decode(errors="replace")
    assert ALPHA_MARKER not in body, route.pattern


@pytest.mark.parametrize("url", ["/appliances/", "/api/v1/appliances/", "/audit/", "/members/", "/api/v1/memberships/"])
def test_platform_operator_lists_show_both_organisations(url, world, platform_operator, client):
    client.force_login(platform_operator)
    # One page large enough for the whole world (UI: per_page, API: limit): every app's models add rows to it.
    body = client.get(url, {"per_page": 500, "limit": 500}).content.decode()
    assert ALPHA_MARKER in body and "bravo-own-rows" in body


@pytest.mark.parametrize(
    "route",
    [r for r in LIST_ROUTES if r.is_api and "post" in r.api_actions],
    ids=lambda r: r.pattern,
)
def test_cannot_create_into_another_organisation_over_api(route, world, org_a, org_b, api_as):
    _, bravo_admin = world
    if route.model is None:
        assert route.pattern in SCOPED_ELSEWHERE, f"{route.pattern} names no model: prove its scoping and list it"
        proof = Path(__file__).resolve().parents[2] / SCOPED_ELSEWHERE[route.pattern]
        assert route.url().rstrip("/") + "/" in proof.read_text(), f"{proof} does not exercise {route.url()}"
        return
    entry = REGISTRY[route.model]
    api = api_as(bravo_admin)
    if entry.payload is None:
        # Not creatable by organisation members at all (organisations): refused, nothing written.
        before = route.model.objects.count()
        response = api.post(route.url(), {"name": "intruder", "slug": "intruder", "organization": org_a.pk}, format="json")
        assert response.status_code in (400, 403, 404), response.status_code
        assert route.model.objects.count() == before
        return
    before = route.model.objects.count()
    own = api.post(route.url(), entry.payload(org_b), format="json")
    assert own.status_code == 201, ("the payload must be valid in one's own organisation", own.content[:300])
    after_own = route.model.objects.count()
    foreign = api.post(route.url(), entry.payload(org_a), format="json")
    assert foreign.status_code in (400, 403, 404), foreign.status_code
    assert route.model.objects.count() == after_own == before + 1


def test_cannot_create_into_another_organisation_in_the_ui(world, org_a, client):
    _, bravo_admin = world
    client.force_login(bravo_admin)
    for route in [r for r in LIST_ROUTES if not r.is_api and r.model in REGISTRY and REGISTRY[r.model].form_payload]:
        before = route.model.objects.count()
        response = client.post(route.url(), REGISTRY[route.model].form_payload(org_a))
        assert response.status_code in (200, 400, 403, 404, 405), route.pattern
        assert route.model.objects.count() == before, route.pattern


def test_csv_export_is_scoped(world, client):
    _, bravo_admin = world
    client.force_login(bravo_admin)
    body = client.get("/appliances/export/").content.decode()
    assert ALPHA_MARKER not in body and "bravo-own-rows" in body


def _model_choice_filters(route):
    """(parameter, model) for every model-choice filter the list endpoint accepts."""
    view = route.callback.cls(action="list", request=None, format_kwarg=None)
    for backend in getattr(view, "filter_backends", []):
        if not hasattr(backend, "get_filterset_class"):
            continue
        filterset_class = backend().get_filterset_class(view, view.queryset)
        if filterset_class is None:
            continue
        for name, filter_ in filterset_class.base_filters.items():
            queryset = getattr(filter_, "queryset", None)
            if queryset is not None and not callable(queryset):
                yield name, queryset.model


FILTERED_LIST_ROUTES = [
    r for r in LIST_ROUTES if r.is_api and "get" in r.api_actions and getattr(r.callback, "cls", None) is not None
]


@pytest.mark.parametrize("route", FILTERED_LIST_ROUTES, ids=lambda r: r.pattern)
def test_filters_do_not_reveal_that_another_organisations_object_exists(route, world, api_as):
    alpha, bravo_admin = world
    api = api_as(bravo_admin)
    for name, model in _model_choice_filters(route):
        if model not in alpha:
            continue
        foreign = api.get(route.url(), {name: alpha[model].pk})
        missing = api.get(route.url(), {name: 987654321})
        assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json()), (route.pattern, name)
