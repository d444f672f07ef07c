from .fixtures import swing_fleet_fixture  # noqa: F401  (fixture swing_fleet)
