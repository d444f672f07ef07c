"""Operations engine: runs a persisted Operation's steps under the pair's lock, resumable after a crash.

``engine`` holds the runner and the step vocabulary; one module per operation kind plans its steps
(``sync``, ``role_change``, ``establish``, ``breaking``, ``fix_conflict``, ``auto_failover``, the ``runbooks``) and registers its
planner in ``registry``. Importing the package registers them all.
"""

from . import auto_failover, breaking, establish, fix_conflict, role_change, runbooks, sync  # noqa: F401  (registration)
from .engine import run_operation

__all__ = ["run_operation"]
