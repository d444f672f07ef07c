"""docs/security.md lists every limit: each limit setting of portal/settings.py is named there."""

import re

from tests.production.env import ROOT

LIMIT_NAME = re.compile(r"MAX|LIMIT|THROTTLE|COOLOFF|TIMEOUT|_AGE$|HSTS|POLICY")


def test_every_limit_setting_is_in_the_security_doc():
    settings_source = (ROOT / "portal" / "settings.py").read_text()
    names = {name for name in re.findall(r"^\s*([A-Z][A-Z0-9_]+)\s*=", settings_source, re.MULTILINE)
             if LIMIT_NAME.search(name)}
    assert {"REQUEST_BODY_MAX_BYTES", "AXES_FAILURE_LIMIT", "API_THROTTLE_RATES", "CONTENT_SECURITY_POLICY"} <= names
    doc = (ROOT / "docs" / "security.md").read_text()
    assert sorted(name for name in names if f"`{name}`" not in doc) == []
