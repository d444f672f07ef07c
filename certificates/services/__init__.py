"""Certificate services (writes): inventory import/sync/delete, export, served-certificate parity, replication."""

from .defaults import certificate_set_default
from .export import ExportedFile, certificate_export
from .inventory import (
    InventorySyncResult,
    certificate_delete,
    certificate_import,
    certificate_inventory_sync,
    certificate_store,
)
from .parity import PairCheck, appliance_certificates_check, pair_certificates_check, served_refresh
from .replication import ReplicationResult, pair_certificate_replicate

__all__ = [
    "ExportedFile",
    "InventorySyncResult",
    "PairCheck",
    "ReplicationResult",
    "appliance_certificates_check",
    "certificate_delete",
    "certificate_export",
    "certificate_import",
    "certificate_inventory_sync",
    "certificate_set_default",
    "certificate_store",
    "pair_certificate_replicate",
    "pair_certificates_check",
    "served_refresh",
]
