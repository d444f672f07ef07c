import pytest

from portal.models import Role


@pytest.mark.django_db
def test_platform_operator_uses_django_admin(platform_operator, org_a, client):
    client.force_login(platform_operator)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/appliances/appliance/").status_code == 200
    page = client.get(f"/admin/portal/organization/{org_a.pk}/change/")
    assert page.status_code == 200 and "Alpha Corp" in page.content.decode()


@pytest.mark.django_db
def test_organisation_admin_is_kept_out_of_django_admin(org_a, make_member, client):
    client.force_login(make_member(org_a, Role.ADMIN))
    response = client.get("/admin/appliances/appliance/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
