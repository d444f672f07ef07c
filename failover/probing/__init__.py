"""Fleet probing: claim due appliances, probe them concurrently, write back the latest status in bulk and a
history row only on a transition, then recompute the pairs they belong to.

``engine.probe_appliances`` is the one real probe path: the Celery batch task and the benchmark both call it.
"""

from .dispatch import claim_due_appliances
from .engine import SweepReport, probe_appliances

__all__ = ["SweepReport", "claim_due_appliances", "probe_appliances"]
