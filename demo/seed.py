"""Demo data: two organisations from a generated simulator fleet, a user for every role, a platform operator."""

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from appliances.models import Appliance
from certificates.services import certificate_inventory_sync
from portal.models import ChannelKind, Membership, NotificationChannel, NotificationRoute, Role, User
from portal.notifications.channels import apprise_url_redacted
from portal.permissions import SYSTEM
from simulator.fleet import generate_fleet

from .fleet_loader import fleet_load

DEMO_PASSWORD = "demo-failover-2026"

#: The first pair of the first organisation (pair01.org-001.sim.test, primary 127.1.0.1) is set up so that the
#: portal's own automatic failover can succeed when its primary goes down (README, "A tour of the demo"): the
#: portal's automatic failover on, the appliance's built-in one off (both on and the portal stands aside), a
#: connectivity test IP that answers on loopback (the portal's evidence that the outage is not its own network)
#: and the form's shortest primary timeout. The other pairs keep the vendor's defaults: nobody fails them over.
AUTO_FAILOVER_SETTINGS = {"automatic_failover": False, "primary_timeout": 30, "connectivity_test_ips": ["127.0.0.1"]}


@dataclass
class DemoLogin:
    username: str
    description: str


def _user(username: str, **fields) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com", **fields})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


@transaction.atomic
def demo_notifications(organization, webhook_port: int) -> None:
    """Critical alerts go to the local webhook receiver (``manage.py webhook_receiver``) and, through the
    default route's fall-through, every alert is emailed (the console backend prints it in the worker)."""
    url = f"json://127.0.0.1:{webhook_port}/{organization.slug}"
    channel, _ = NotificationChannel.objects.get_or_create(
        organization=organization, name="Local webhook (demo)",
        defaults={"kind": ChannelKind.APPRISE, "url": url, "url_redacted": apprise_url_redacted(url)})
    email, _ = NotificationChannel.objects.get_or_create(
        organization=organization, name="NOC email", defaults={"kind": ChannelKind.EMAIL,
                                                               "recipients": organization.alert_recipients})
    route, created = NotificationRoute.objects.get_or_create(
        organization=organization, name="Critical to chat and email",
        defaults={"position": 10, "matchers": [{"label": "severity", "op": "=", "value": "critical"}],
                  "group_by": ["kind"], "group_wait": 10, "repeat_interval": 600})
    if created:
        route.channels.set([channel, email])


def demo_fleet(organisations: int = 2, pairs_per_org: int = 8, singles: int = 4, *, vendor_pairs_per_org: int = 3,
               time_scale: float = 0.1) -> dict:
    """The demo's simulated fleet, with its first pair set up for the portal's automatic failover."""
    fleet = generate_fleet(organisations, pairs_per_org, singles, simulator={"time_scale": time_scale},
                           vendor_pairs_per_org=min(vendor_pairs_per_org, pairs_per_org),
                           vendor_singles_per_org=min(1, singles))
    first = fleet["organisations"][0]["pairs"][0]
    first["settings"] = {**first["settings"], **AUTO_FAILOVER_SETTINGS}
    first["portal_auto_failover"] = True
    return fleet


def demo_seed(*, fleet_path: Path, ca_pem: str, port: int, webhook_port: int = 8025) -> list[DemoLogin]:
    # One vendor-only pair per organisation is left unrecorded, as a customer's pairs start: the pair list proposes
    # it for adoption once the probes have seen both members.
    result = fleet_load(actor=SYSTEM, fleet=fleet_path, ca_pem=ca_pem, port=port, pairs=True,
                        vendor_pairs_to_adopt=1)
    logins = [DemoLogin("platform", "platform operator: every organisation, Django admin")]
    _user("platform", is_platform_operator=True, is_staff=True, is_superuser=True)
    for organization in result.organizations:
        organization.alert_recipients = f"noc@{organization.slug}.example.com"
        organization.save(update_fields=["alert_recipients"])
        demo_notifications(organization, webhook_port)
        for role in (Role.ADMIN, Role.OPERATOR, Role.VIEWER):
            username = f"{organization.slug}-{role}"
            user = _user(username)
            Membership.objects.get_or_create(organization=organization, user=user, defaults={"role": role})
            logins.append(DemoLogin(username, f"{role} of {organization.name}"))
    # A lively demo: probe every 10 s (production default 60 s), so an injected fault shows within half a minute.
    Appliance.objects.filter(pk__in=[a.pk for a in result.appliances.values()]).update(probe_interval=10)
    # The demo starts with every appliance's certificate inventory read, as the hourly sync would.
    for appliance in result.appliances.values():
        try:
            certificate_inventory_sync(actor=SYSTEM, appliance=appliance)
        except ValidationError:
            continue
    return logins
