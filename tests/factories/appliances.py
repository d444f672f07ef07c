import base64
import hashlib

import factory
from django.utils import timezone

from appliances.models import (
    PROBE_STATUS_FIELDS,
    AddressKind,
    Appliance,
    ApplianceAddress,
    ApplianceProbeStatus,
)

from .portal import OrganizationFactory


def appliance_status_set(appliances, **values) -> None:
    """Status as a probe would have left it, on an appliance (or pk, or queryset): the appliance row's columns
    and those of its narrow probe-status row (``appliances.models.probe_status``), like ``queryset.update``."""
    if isinstance(appliances, Appliance | int):
        appliances = Appliance.objects.filter(pk=getattr(appliances, "pk", appliances))
    narrow = {name: values.pop(name) for name in list(values) if name in PROBE_STATUS_FIELDS}
    if values:
        appliances.update(**values)
    if narrow:
        ApplianceProbeStatus.objects.filter(appliance__in=appliances).update(**narrow)


def fake_pin(seed: str) -> str:
    return "sha256//" + base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


class ApplianceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appliance

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"appliance-{n:04d}")
    management_host = factory.Sequence(lambda n: f"127.2.{n // 250}.{n % 250 + 1}")
    management_port = 443
    appliance_guid = factory.Sequence(lambda n: hashlib.md5(f"guid{n}".encode()).hexdigest())  # noqa: S324
    model = "B300"
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    product_version = "24.3.1"
    build = "41234-0123abcd"
    site_hostname = "access.example.com"
    client_id = factory.Sequence(lambda n: f"client-{n}")
    client_secret = factory.Sequence(lambda n: f"very-secret-value-{n}")
    tls_pin = factory.LazyAttribute(lambda a: fake_pin(a.name))


class ApplianceAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplianceAddress

    appliance = factory.SubFactory(ApplianceFactory)
    organization = factory.SelfAttribute("appliance.organization")
    address = factory.Sequence(lambda n: f"192.0.2.{n % 250 + 1}")
    prefix_length = 24
    kind = AddressKind.UNIQUE
    enabled = True


# -- configuration backups and RMA ----------------------------------------------------------------------

SAMPLE_BACKUP = b"NSB1" + (2).to_bytes(4, "big") + b"{}" + b"\x00" * 64


class BackupPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appliances.BackupPolicy"

    organization = factory.SubFactory(OrganizationFactory)


class ConfigurationBackupFactory(factory.django.DjangoModelFactory):
    """A good backup (content encrypted by the field, checksum consistent)."""

    class Meta:
        model = "appliances.ConfigurationBackup"

    appliance = factory.SubFactory(ApplianceFactory)
    organization = factory.SelfAttribute("appliance.organization")
    status = "succeeded"
    trigger = "scheduled"
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.SelfAttribute("started_at")
    content = SAMPLE_BACKUP
    size_bytes = factory.LazyAttribute(lambda b: len(b.content or b""))
    sha256 = factory.LazyAttribute(lambda b: hashlib.sha256(b.content or b"").hexdigest())
    filename = "appliance-24.3.1.nsb"
    software_version = "24.3.1"
