"""RMA tests walk cases against the simulated fleet loaded into the inventory, like the backup tests."""

from tests.appliances.conftest import sim_inventory  # noqa: F401  (fixture)
