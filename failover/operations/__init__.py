"""Operations engine: runs a persisted Operation's steps under the pair's lock, resumable after a crash.

``engine`` holds the runner and the step vocabulary; one module per operation kind plans its steps
(``sync``, ``role_change``, ``establish``, ``breaking``, ``fix_conflict``); ``registry`` maps kinds to planners.
"""

from .engine import run_operation

__all__ = ["run_operation"]
