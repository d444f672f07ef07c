from datetime import timedelta

import factory
from django.utils import timezone

from failover.alerts import AlertKind
from failover.models import (
    BackupSettings,
    NetworkMethod,
    Operation,
    OperationKind,
    OperationStep,
    Pair,
    PairStateChange,
    StatusChange,
    SyncRecord,
    SyncTrigger,
)
from portal.models import Alert

from .appliances import ApplianceFactory
from .portal import OrganizationFactory


class PairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pair

    organization = factory.SubFactory(OrganizationFactory)
    site_hostname = factory.Sequence(lambda n: f"site{n}.example.com")
    primary = factory.SubFactory(ApplianceFactory, organization=factory.SelfAttribute("..organization"))
    backup = factory.SubFactory(ApplianceFactory, organization=factory.SelfAttribute("..organization"))
    network_method = NetworkMethod.SHARED_IP
    shared_ip = factory.Sequence(lambda n: f"198.18.{n // 250}.{n % 250 + 1}")
    backup_host = factory.SelfAttribute("backup.management_host")
    reverse_host = factory.SelfAttribute("primary.management_host")


class BackupSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackupSettings

    appliance = factory.SubFactory(ApplianceFactory)
    organization = factory.SelfAttribute("appliance.organization")
    # Recorded settings (declared by an admin); pass declared_at=None for settings the portal does not know.
    declared_at = factory.LazyFunction(timezone.now)


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusChange

    appliance = factory.SubFactory(ApplianceFactory)
    organization = factory.SelfAttribute("appliance.organization")
    at = factory.LazyFunction(timezone.now)
    reachable = True
    healthy = True
    role = "primary"
    summary = "up"


class PairStateChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PairStateChange

    pair = factory.SubFactory(PairFactory)
    organization = factory.SelfAttribute("pair.organization")
    at = factory.LazyFunction(timezone.now)
    state = "healthy"


class OperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operation

    pair = factory.SubFactory(PairFactory)
    organization = factory.SelfAttribute("pair.organization")
    kind = OperationKind.SYNC
    status = "succeeded"


class OperationStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperationStep

    operation = factory.SubFactory(OperationFactory)
    organization = factory.SelfAttribute("operation.organization")
    index = 0
    name = "sync"
    description = "Pull the primary's data into the backup"


class SyncRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRecord

    pair = factory.SubFactory(PairFactory)
    organization = factory.SelfAttribute("pair.organization")
    trigger = SyncTrigger.SCHEDULE
    started_at = factory.LazyFunction(timezone.now)


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    class Params:
        # An alert about a pair (its scope) and, optionally, one of its appliances (its target).
        pair = factory.SubFactory(PairFactory)
        appliance = None

    scope = factory.SelfAttribute("pair")
    target = factory.SelfAttribute("appliance")
    organization = factory.SelfAttribute("pair.organization")
    kind = AlertKind.SYNC_STALE
    dedup_key = factory.Sequence(lambda n: f"key-{n}")
    subject = "Sync stale"
    body = "No data sync for a day."


class MaintenanceWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "failover.MaintenanceWindow"

    pair = factory.SubFactory(PairFactory)
    organization = factory.SelfAttribute("pair.organization")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))


class DrillScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "failover.DrillSchedule"

    pair = factory.SubFactory(PairFactory)
    organization = factory.SelfAttribute("pair.organization")


class ChangeLogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "failover.ChangeLogEntry"

    operation = factory.SubFactory(OperationFactory)
    organization = factory.SelfAttribute("operation.organization")
    text = "a /login change"


class EvacuationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "failover.Evacuation"

    organization = factory.SubFactory(OrganizationFactory)
    location = "PAR-1"


class EvacuationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "failover.EvacuationItem"

    pair = factory.SubFactory(PairFactory)
    organization = factory.SelfAttribute("pair.organization")
    evacuation = factory.SubFactory(EvacuationFactory, organization=factory.SelfAttribute("..organization"))
    position = factory.Sequence(int)
    source = factory.SelfAttribute("pair.primary")
    target = factory.SelfAttribute("pair.backup")
