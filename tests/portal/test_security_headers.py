"""Browser-facing policies: Content-Security-Policy without inline scripts, Permissions-Policy, no caching of the
page that shows a new API token, HSTS preload only when asked for, and the API schema and docs behind sign-in
unless a setting opens them."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from portal.models import Role
from tests.production.env import ROOT, production_env

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = [p for p in ROOT.glob("*/templates") if p.is_dir()]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style[\s>]|\sstyle\s*=", re.IGNORECASE)


def templates():
    for directory in TEMPLATE_DIRS:
        yield from (path for path in directory.rglob("*.html"))


@pytest.mark.parametrize("pattern", [INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE], ids=["script", "handler", "style"])
def test_no_template_of_the_portal_has_inline_script_handlers_or_styles(pattern):
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in templates()
                 for match in pattern.finditer(path.read_text())]
    assert offenders == []


def test_pages_carry_a_csp_without_inline_script_and_a_permissions_policy(client, org_a, make_member):
    client.force_login(make_member(org_a, Role.ADMIN))
    response = client.get("/")
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    # htmx is told not to inject its own <style> nor to evaluate code.
    assert '"includeIndicatorStyles": false' in response.content.decode()


def test_the_page_that_shows_a_new_token_is_never_stored(client, org_a, make_member):
    client.force_login(make_member(org_a, Role.VIEWER))
    response = client.post("/tokens/", {"name": "ci"})
    assert response.status_code == 200
    assert re.search(r"fpt_\w+", response.content.decode())
    assert "no-store" in response["Cache-Control"]


def test_hsts_is_sent_without_preload(client):
    response = client.get("/login/", secure=True)
    assert "max-age=" in response["Strict-Transport-Security"]
    assert "preload" not in response["Strict-Transport-Security"]


def test_production_default_has_no_hsts_preload_and_env_opts_in(tmp_path: Path):
    script = "import django; django.setup(); from django.conf import settings; print(settings.SECURE_HSTS_PRELOAD)"
    for env, expected in (({}, "False"), ({"SECURE_HSTS_PRELOAD": "True"}, "True")):
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=production_env(tmp_path, **env),
                                capture_output=True, text=True, timeout=60, check=True)
        assert result.stdout.strip() == expected


def test_schema_and_docs_answer_signed_in_users_only(client, api_as, org_a, make_member):
    assert client.get("/api/schema/").status_code in (401, 403)
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/login/?next=/api/docs/")
    assert client.get("/api/docs/?script=").status_code == 302
    api = api_as(make_member(org_a, Role.VIEWER))
    assert api.get("/api/schema/").status_code == 200  # a token client may fetch the schema
    client.force_login(make_member(org_a, Role.VIEWER))
    page = client.get("/api/docs/")
    assert page.status_code == 200 and "<style>" not in page.content.decode()
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def test_a_setting_opens_schema_and_docs(client, settings):
    settings.API_DOCS_PUBLIC = True
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
