import pytest

from certificates.models import Certificate
from certificates.tasks import sync_inventories, sync_inventory


@pytest.mark.django_db
def test_hourly_sync_reads_every_appliances_certificates(sim_fleet, django_capture_on_commit_callbacks):
    appliances = list(sim_fleet.appliances.values())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert sync_inventories() == len(appliances)
    assert len(callbacks) == len(appliances)
    for appliance in appliances:
        sync_inventory(appliance.pk)
    held = Certificate.objects.filter(appliance__in=appliances, on_appliance=True)
    assert {c.appliance_id for c in held} == {a.pk for a in appliances}
