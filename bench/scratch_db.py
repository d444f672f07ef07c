"""The benchmarks' scratch database: dropped and recreated, every table made from the models (no migrations).
Imported by a benchmark after ``django.setup()``."""

import os
from collections.abc import Callable

from django.apps import apps
from django.db import connection


def create_schema() -> None:
    """Recreate the scratch database the benchmark's DATABASE_URL names, then its tables from the models."""
    from bench.portal_processes import recreate_database

    connection.close()
    recreate_database(os.environ["DATABASE_URL"])
    with connection.schema_editor() as editor:
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                editor.create_model(model)
        # What migrations do beside the models: room for HOT updates (appliances migration 0009).
        from appliances.models.probe_status import FILLFACTOR, ApplianceProbeStatus

        editor.execute(f"ALTER TABLE {ApplianceProbeStatus._meta.db_table} SET (fillfactor = {FILLFACTOR})")


def bulk_load_fleet(sim, *, appliance_fields: Callable[[dict, dict], dict] | None = None,
                    pair_fields: Callable[[dict], dict] | dict | None = None) -> list:
    """Bulk insert the simulator's fleet (the fleet loader audits each row, which is right for people and slow
    for 10,000): ``appliance_fields(appliance, organisation)`` and ``pair_fields`` (a dict, or ``(pair) -> dict``
    per pair of the fleet file) add or override columns.
    Returns the organisations."""
    from appliances.models import Appliance
    from failover.models import Pair
    from portal.models import Organization

    ca_pem = sim.ca_path.read_text()
    organizations = []
    for org_data in sim.fleet["organisations"]:
        organization = Organization.objects.create(name=org_data["name"], slug=org_data["slug"])
        organizations.append(organization)
        Appliance.objects.bulk_create([
            Appliance(organization=organization, name=a["name"], management_host=a["address"],
                      management_port=sim.port, appliance_guid=a["guid"], site_hostname=a["hostname"],
                      client_id=a["client_id"], client_secret=a["client_secret"], ca_bundle=ca_pem,
                      **(appliance_fields(a, org_data) if appliance_fields else {}))
            for a in org_data["appliances"]
        ], batch_size=1000)
        by_name = dict(Appliance.objects.filter(organization=organization).values_list("name", "pk"))
        defaults = {"network_method": "dns_swing", "dns_server": "127.0.0.53", "dns_zone": "sim.test",
                    "backup_host": "127.0.0.1", "reverse_host": "127.0.0.1"}
        Pair.objects.bulk_create([
            Pair(organization=organization, site_hostname=p["site_hostname"], primary_id=by_name[p["primary"]],
                 backup_id=by_name[p["backup"]],
                 **{**defaults, **(pair_fields(p) if callable(pair_fields) else pair_fields or {})})
            for p in org_data["pairs"]
        ], batch_size=1000)
    return organizations
