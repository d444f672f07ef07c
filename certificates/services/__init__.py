"""Certificate services (writes): inventory import/sync/delete, export, served-certificate parity of two
appliances, replication from one appliance to another."""

from .defaults import certificate_set_default
from .export import ExportedFile, certificate_export
from .inventory import (
    InventorySyncResult,
    certificate_delete,
    certificate_import,
    certificate_inventory_sync,
    certificate_store,
)
from .parity import CoupleCheck, appliance_certificates_check, couple_certificates_check, served_refresh
from .replication import ReplicationResult, couple_certificate_replicate

__all__ = [
    "ExportedFile",
    "InventorySyncResult",
    "CoupleCheck",
    "ReplicationResult",
    "appliance_certificates_check",
    "certificate_delete",
    "certificate_export",
    "certificate_import",
    "certificate_inventory_sync",
    "certificate_set_default",
    "certificate_store",
    "couple_certificate_replicate",
    "couple_certificates_check",
    "served_refresh",
]
