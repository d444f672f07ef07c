"""Two appliances that must serve the same certificate: parity and replication compare and copy between them.

Certificates knows nothing of failover pairs: the app above describes its pair as a ``Couple`` (which member's
certificate counts, which one copies it, the site name both serve) and passes it in. ``about`` is the object
the alerts and audit entries name (the pair), kept opaque here. Reads of stored parity need only the ids; what
talks to the appliances needs the ``primary``/``backup`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Couple:
    organization_id: int
    primary_id: int  # whose certificate counts
    backup_id: int  # the appliance that must serve the same one
    site_hostname: str
    shared_ip: str | None = None
    about: Any = None
    primary: Any = None  # appliances.models.Appliance rows, when the caller talks to the appliances
    backup: Any = None

    @property
    def organization(self):
        return self.primary.organization

    @property
    def key(self) -> str:
        """Stable text naming the couple in dedup keys (``pair:12``), the appliances' ids when nothing is named."""
        if self.about is not None:
            return f"{self.about._meta.model_name}:{self.about.pk}"
        return f"appliances:{self.primary_id}:{self.backup_id}"

    def __str__(self) -> str:
        return str(self.about) if self.about is not None else self.site_hostname
