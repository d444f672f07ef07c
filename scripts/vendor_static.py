#!/usr/bin/env python3
"""Refresh the browser libraries under ``portal/static/vendor/`` from the npm registry at pinned versions.

The portal serves every script and style sheet itself (no CDN: operators' networks and the tests have none), so
the files are committed. This script is how they get there: ``npm pack`` fetches each package at the version
and integrity pinned below, and the files listed are copied out of the package unchanged, **with the source maps
the minified files name** (``//# sourceMappingURL=...``). Django's manifest storage (production's
``collectstatic``) rewrites those references to hashed names and fails when the map is missing, so a minified file
is never copied without its map. ``tests/portal/test_static_build.py`` checks that every reference resolves.

To upgrade: change the version, run the script once with ``--update-integrity`` (it prints the registry's
integrity for the new version and writes nothing), paste it below, run the script, commit the result.

    python scripts/vendor_static.py [--update-integrity]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIR = ROOT / "portal" / "static" / "vendor"


@dataclass(frozen=True)
class VendoredPackage:
    name: str
    version: str
    # npm's Subresource Integrity string of the tarball; npm pack reports it, we refuse anything else.
    integrity: str
    directory: str
    # path inside the package -> path under VENDOR_DIR/directory
    files: dict[str, str] = field(default_factory=dict)


PACKAGES = [
    VendoredPackage(
        name="bootstrap",
        version="5.3.9",
        integrity="sha512-20cU0rcfw8WdxtVbmfU+xT2EjvVTw9Ror/h1Qvd7DXCujRg8OO9mdBCsmTHdJFf3BuadmBNJtgIuUXsBqSkk/w==",
        directory="bootstrap",
        files={
            "LICENSE": "LICENSE",
            "dist/css/bootstrap.min.css": "bootstrap.min.css",
            "dist/css/bootstrap.min.css.map": "bootstrap.min.css.map",
            "dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
            "dist/js/bootstrap.bundle.min.js.map": "bootstrap.bundle.min.js.map",
        },
    ),
    VendoredPackage(
        name="bootstrap-icons",
        version="1.13.2",
        integrity="sha512-fAU1Ly3dH7hwRg+CB8EZ0Vl0fF80zgXHeUVJyfUOKzoURr+TbwISbCW5tKUoQLERaWYG2emTCybcPbD96hdD1A==",
        directory="bootstrap-icons",
        files={
            "LICENSE": "LICENSE",
            "font/bootstrap-icons.min.css": "bootstrap-icons.min.css",
            "font/fonts/bootstrap-icons.woff": "fonts/bootstrap-icons.woff",
            "font/fonts/bootstrap-icons.woff2": "fonts/bootstrap-icons.woff2",
        },
    ),
    VendoredPackage(
        name="htmx.org",
        version="2.0.11",
        integrity="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        directory="htmx",
        files={"LICENSE": "LICENSE", "dist/htmx.min.js": "htmx.min.js"},
    ),
    # The RPO/RTO charts of the pair page (failover/static/failover/charts.js). Its dist names no source map.
    VendoredPackage(
        name="uplot",
        version="1.6.32",
        integrity="sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
        directory="uplot",
        files={"LICENSE": "LICENSE", "dist/uPlot.iife.min.js": "uPlot.iife.min.js", "dist/uPlot.min.css": "uPlot.min.css"},
    ),
]


def npm_pack(package: VendoredPackage, workdir: Path) -> tuple[Path, str]:
    spec = f"{package.name}@{package.version}"
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],  # noqa: S607 - npm from PATH
        check=True, capture_output=True, text=True,
    )
    info = json.loads(result.stdout)[0]
    return workdir / info["filename"], info["integrity"]


def vendor(package: VendoredPackage, workdir: Path) -> None:
    tarball, integrity = npm_pack(package, workdir)
    if integrity != package.integrity:
        raise SystemExit(f"{package.name}@{package.version}: integrity {integrity} is not the pinned one")
    target = VENDOR_DIR / package.directory
    shutil.rmtree(target, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        for source, destination in package.files.items():
            # npm tarballs put everything under package/; only the listed members are read (no extractall).
            member = archive.extractfile(f"package/{source}")
            if member is None:
                raise SystemExit(f"{package.name}: {source} is not a file in the package")
            path = target / destination
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(member.read())
    print(f"vendored {package.name}@{package.version} into {target.relative_to(ROOT)}")


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for package in PACKAGES:
            if "--update-integrity" in argv:
                _, integrity = npm_pack(package, Path(tmp))
                print(f"{package.name}@{package.version}: {integrity}")
            else:
                vendor(package, Path(tmp))


if __name__ == "__main__":
    main(sys.argv[1:])
