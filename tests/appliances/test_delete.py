import pytest

from appliances.models import Appliance
from portal.models import Role
from tests.factories import PairFactory


@pytest.mark.django_db
def test_deleting_a_pair_member_is_refused_with_a_reason(org_a, make_member, login, api_as):
    pair = PairFactory(organization=org_a, site_hostname="access.example.com")
    admin = make_member(org_a, Role.ADMIN)
    response = login(admin).post(f"/appliances/{pair.primary.pk}/delete/", follow=True)
    assert "cannot be deleted while these refer to it" in response.content.decode()
    assert "access.example.com" in response.content.decode()
    api_response = api_as(admin).delete(f"/api/v1/appliances/{pair.backup.pk}/")
    assert api_response.status_code == 400
    assert Appliance.objects.filter(pk__in=[pair.primary.pk, pair.backup.pk]).count() == 2
