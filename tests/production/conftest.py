"""The browser fixture of the e2e tests, for the production-stack test."""

from tests.e2e.conftest import browser  # noqa: F401
