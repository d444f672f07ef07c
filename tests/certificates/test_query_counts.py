"""Lists hold a constant number of queries whatever the number of certificates (warnings included)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import Role
from tests.factories import ApplianceFactory, CertificateFactory, PairFactory, ServedCertificateFactory

pytestmark = pytest.mark.django_db


def _fill(org, count):
    for _ in range(count):
        pair = PairFactory(organization=org)
        CertificateFactory(appliance=pair.primary)
        ServedCertificateFactory(appliance=pair.primary)
        CertificateFactory(appliance=ApplianceFactory(organization=org))


def _queries(fetch) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert fetch().status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/certificates/", "/api/v1/certificates/", "/api/v1/pair-certificates/",
                                 "/api/v1/served-certificates/"])
def test_list_queries_do_not_grow_with_rows(url, org_a, make_member, login, api_as):
    viewer = make_member(org_a, Role.VIEWER)
    client = api_as(viewer) if url.startswith("/api/") else login(viewer)
    client.get(url)  # warm-up: the first authenticated request records the token's use
    _fill(org_a, 2)
    few = _queries(lambda: client.get(url))
    _fill(org_a, 10)
    many = _queries(lambda: client.get(url))
    assert many == few, (url, few, many)
