"""The environment of a production process (``portal.settings``, DEBUG off) for tests that start one, built from
the same variables docs/install.md tells an operator to set."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Not secrets: fixed test values, long enough for ``check --deploy``.
TEST_SECRET_KEY = "production-stack-test-" + "k" * 64
TEST_FIELD_ENCRYPTION_KEYS = "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE="


def production_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(var_dir),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "False",
        "SECRET_KEY": TEST_SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": TEST_FIELD_ENCRYPTION_KEYS,
        "PORTAL_VAR_DIR": str(var_dir),
        "STATIC_ROOT": str(var_dir / "static"),
    }
    env.update(overrides)
    return env
