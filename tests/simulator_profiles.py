"""Run a module's tests against both simulator profiles, so no flow works only with the extension actions."""

import inspect

import pytest

PROFILES = ("extended", "vendor")


def extension_only(test):
    """A test of what only the extension can show (say why where it is used): left out of ``parametrize_profiles``."""
    test.extension_only = True
    return test


def parametrize_profiles(namespace: dict, fixture: str) -> None:
    """Parametrize (indirectly) every test of the module whose ``namespace`` is given and that uses ``fixture``;
    the fixture reads the profile from ``request.param`` and switches the simulator to it."""
    for name, test in list(namespace.items()):
        marks = {mark.args[0] for mark in getattr(test, "pytestmark", []) if mark.name == "parametrize"}
        if (name.startswith("test_") and callable(test) and not getattr(test, "extension_only", False)
                and fixture not in marks  # a test that picks its profile itself
                and fixture in inspect.signature(test).parameters):
            namespace[name] = pytest.mark.parametrize(fixture, PROFILES, indirect=True)(test)
