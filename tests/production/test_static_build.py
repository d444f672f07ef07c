"""The production static build: ``collectstatic`` under ``portal.settings`` (whitenoise's compressed manifest
storage, which the test settings replace by a plain one) succeeds, and a page then renders with hashed names.

Before the vendored files came with their source maps, collectstatic stopped on
``MissingFileError: bootstrap.bundle.min.js.map`` and every page answered 500."""

import re
import subprocess
import sys

from scripts.vendor_static import PACKAGES, VENDOR_DIR

from .env import ROOT, production_env

SOURCE_MAP = re.compile(rb"[#@] sourceMappingURL=([^\s*]+)")


def test_every_vendored_file_is_there_and_every_source_map_it_names_is_shipped():
    for package in PACKAGES:
        for destination in package.files.values():
            assert (VENDOR_DIR / package.directory / destination).is_file(), (package.name, destination)
    referenced = 0
    for path in VENDOR_DIR.rglob("*"):
        if path.suffix in (".js", ".css"):
            for name in SOURCE_MAP.findall(path.read_bytes()):
                referenced += 1
                assert (path.parent / name.decode()).is_file(), f"{path} names {name.decode()}, which is not shipped"
    assert referenced >= 2  # Bootstrap's CSS and JS both name a map


RENDER_LOGIN = """
import django; django.setup()
from django.test import Client
response = Client().get("/login/", secure=True)
print(response.status_code)
print(response.content.decode())
"""


def test_collectstatic_under_production_settings_then_pages_render(tmp_path):
    env = production_env(tmp_path, ALLOWED_HOSTS="testserver")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    static_root = tmp_path / "static"
    manifest = (static_root / "staticfiles.json").read_text()
    assert "vendor/bootstrap/bootstrap.bundle.min.js" in manifest
    assert list(static_root.glob("vendor/bootstrap/bootstrap.bundle.min.*.js.gz")), "whitenoise compresses"

    page = subprocess.run(
        [sys.executable, "-c", RENDER_LOGIN], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert page.returncode == 0, page.stderr[-3000:]
    status, html = page.stdout.split("\n", 1)
    assert status == "200", html[-3000:]
    assert re.search(r"/static/vendor/bootstrap/bootstrap\.bundle\.min\.[0-9a-f]{12}\.js", html)
