from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from demo.fleet_loader import fleet_load
from portal.permissions import SYSTEM
from simulator.fleet import FleetError


class Command(BaseCommand):
    help = "Load a simulator fleet file (YAML or JSON) into the appliance inventory."

    def add_arguments(self, parser):
        parser.add_argument("fleet", type=Path)
        parser.add_argument("--ca", type=Path, required=True, help="The simulator's ca.pem (TLS trust for every appliance).")
        parser.add_argument("--port", type=int, default=8443, help="The simulator's TLS port.")

    def handle(self, *args, fleet: Path, ca: Path, port: int, **options):
        for path in (fleet, ca):
            if not path.is_file():
                raise CommandError(f"{path} does not exist or is not a file.")
        try:
            result = fleet_load(actor=SYSTEM, fleet=fleet, ca_pem=ca.read_text(), port=port, pairs=True)
        except (FleetError, ValueError, KeyError) as exc:
            raise CommandError(f"{fleet} is not a valid fleet file: {exc}") from exc
        self.stdout.write(
            f"{result.created} appliance(s) created, {result.updated} updated, {len(result.pairs)} pair(s) "
            f"in {len(result.organizations)} organisation(s)."
        )
