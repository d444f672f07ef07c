"""What the generic tenancy tests need to know about each model: how to make one in an organisation (with a
marker a leak would show), and valid create payloads. Add an entry for every new tenant-owned model."""

import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from appliances.models import Appliance, ApplianceAddress
from portal.models import (
    AlertGroup,
    ApiToken,
    AuditEvent,
    ChannelKind,
    Invitation,
    Membership,
    Notification,
    NotificationChannel,
    NotificationPurpose,
    NotificationRoute,
    Organization,
    Role,
    Silence,
)
from portal.services.audit import audit_record
from portal.services.invitations import invitation_create

from .factories import (
    ApiTokenFactory,
    ApplianceAddressFactory,
    ApplianceFactory,
    MembershipFactory,
    UserFactory,
)

ALPHA_MARKER = "alpha-zz-marker"
_counter = itertools.count(1)


@dataclass
class Entry:
    make: Callable  # (organization, marker) -> instance
    payload: Callable | None = None  # (organization) -> valid API create payload
    form_payload: Callable | None = None  # (organization) -> UI add-form payload
    owner_only: bool = False


def _appliance_payload(org):
    n = next(_counter)
    return {"organization": org.pk, "name": f"new-{n}", "management_host": f"127.3.0.{n}", "tls_pin": "ab" * 32}


def _address_payload(org):
    appliance = Appliance.objects.filter(organization=org).first()
    return {"appliance": appliance.pk, "address": f"198.51.100.{next(_counter)}", "prefix_length": 24, "kind": "unique"}


def _invitation_payload(org):
    return {"organization": org.pk, "email": f"joiner-{next(_counter)}@example.com", "role": Role.VIEWER}


def _make_invitation(org, marker):
    invitation, _ = invitation_create(actor=UserFactory(is_platform_operator=True, username=f"{marker}-inviter"),
                                      organization=org, email=f"{marker}@example.com",
                                      accept_url_for=lambda secret: f"/invitations/{secret}/")
    return invitation


def _make_org(org, marker):
    org.name = f"{org.name} {marker}"
    org.save()
    return org


def _make_audit(org, marker):
    return audit_record(actor=None, organization=org, action="action", object_type="test", object_repr=marker)


def _channel_payload(org):
    return {"organization": org.pk, "name": f"channel-{next(_counter)}", "kind": ChannelKind.EMAIL,
            "recipients": "noc@example.com", "enabled": True}


def _route_payload(org):
    return {"organization": org.pk, "name": f"route-{next(_counter)}", "position": 10, "send_resolved": True}


def _silence_payload(org):
    return {"organization": org.pk, "matchers": [{"label": "pair", "op": "=", "value": "a.example.com"}],
            "ends_at": (timezone.now() + timedelta(hours=1)).isoformat(), "comment": "maintenance"}


def _silence_form_payload(org):
    return {"organization": org.pk, "matchers": 'pair="a.example.com"',
            "ends_at": (timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"), "comment": "maintenance"}


def _make_channel(org, marker):
    return NotificationChannel.objects.create(organization=org, name=f"{marker}-channel", kind=ChannelKind.APPRISE,
                                              url="json://hooks.example.com/secret-token",
                                              url_redacted="json://hooks.example.com/…")


REGISTRY: dict[type, Entry] = {
    Organization: Entry(make=_make_org),
    Membership: Entry(
        make=lambda org, marker: MembershipFactory(organization=org, user=UserFactory(username=f"{marker}-user"), role=Role.ADMIN),
    ),
    Invitation: Entry(make=_make_invitation, payload=_invitation_payload, form_payload=_invitation_payload),
    AuditEvent: Entry(make=_make_audit),
    ApiToken: Entry(make=lambda org, marker: ApiTokenFactory(name=marker), owner_only=True),
    Appliance: Entry(
        make=lambda org, marker: ApplianceFactory(organization=org, name=f"{marker}-appliance"),
        payload=_appliance_payload,
        form_payload=_appliance_payload,
    ),
    NotificationChannel: Entry(make=_make_channel, payload=_channel_payload, form_payload=_channel_payload),
    NotificationRoute: Entry(make=lambda org, marker: NotificationRoute.objects.create(organization=org,
                                                                                       name=f"{marker}-route"),
                             payload=_route_payload, form_payload=_route_payload),
    Silence: Entry(make=lambda org, marker: Silence.objects.create(
        organization=org, matchers=[{"label": "pair", "op": "=", "value": "x"}], starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1), comment=marker),
        payload=_silence_payload, form_payload=_silence_form_payload),
    Notification: Entry(make=lambda org, marker: Notification.objects.create(
        organization=org, channel_label=marker, purpose=NotificationPurpose.TEST, subject=marker, body=marker)),
    AlertGroup: Entry(make=lambda org, marker: AlertGroup.objects.create(organization=org, key=marker)),
    ApplianceAddress: Entry(
        make=lambda org, marker: ApplianceAddressFactory(
            appliance=ApplianceFactory(organization=org, name=f"{marker}-addr-host")
        ),
        payload=_address_payload,
        form_payload=_address_payload,
    ),
}


def _load_app_entries() -> None:
    """Each app's tests add their models in ``tests/<app>/tenancy.py`` (an ``ENTRIES`` dict)."""
    for app in ("appliances", "certificates", "failover", "rma"):
        try:
            module = importlib.import_module(f"tests.{app}.tenancy")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.{app}.tenancy":
                raise
            continue
        REGISTRY.update(module.ENTRIES)


def make_alpha_world(organization, marker: str = ALPHA_MARKER) -> dict:
    """One object of every registered model in ``organization``, keyed by model."""
    return {model: entry.make(organization, marker) for model, entry in REGISTRY.items()}


# At the end: the app modules import ``Entry`` from here.
_load_app_entries()
