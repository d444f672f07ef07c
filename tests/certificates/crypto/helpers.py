"""Constants shared by the certificate crypto tests."""

from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SITE = "access.example.com"
APPLIANCE = "primary.example.com"
DATA = Path(__file__).parent / "data"
