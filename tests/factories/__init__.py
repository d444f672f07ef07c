"""factory-boy factories, one module per app, re-exported here."""

from .appliances import ApplianceAddressFactory, ApplianceFactory
from .portal import ApiTokenFactory, MembershipFactory, OrganizationFactory, UserFactory

__all__ = [
    "ApiTokenFactory",
    "ApplianceAddressFactory",
    "ApplianceFactory",
    "MembershipFactory",
    "OrganizationFactory",
    "UserFactory",
]

from .failover import (  # noqa: E402
    AlertFactory,
    BackupSettingsFactory,
    OperationFactory,
    OperationStepFactory,
    PairFactory,
    PairStateChangeFactory,
    StatusChangeFactory,
    SyncRecordFactory,
)

__all__ += [
    "AlertFactory",
    "BackupSettingsFactory",
    "OperationFactory",
    "OperationStepFactory",
    "PairFactory",
    "PairStateChangeFactory",
    "StatusChangeFactory",
    "SyncRecordFactory",
]
