from .fleet import fleet_fixture  # noqa: F401  (fixture)
