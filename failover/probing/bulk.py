"""The probe loop's bulk writes use ``portal.bulk`` (moved there so the inventory's bulk writes, below this app,
use the same statement); kept so the probing modules' imports stand."""

from portal.bulk import BATCH_SIZE, bulk_update_rows

__all__ = ["BATCH_SIZE", "bulk_update_rows"]
