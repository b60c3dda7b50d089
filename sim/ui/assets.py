"""The browser view's web assets (Vuetify app, RequireJS, Font Awesome, Vega), served offline.

Solara's server normally fetches these from a public CDN when a page first asks for them. Machines
that reach only the package registries (CI, a locked-down workshop laptop) cannot, so
`ensure_web_assets` puts them into Solara's asset cache from the npm registry with `npm pack`,
once per virtual environment. The package list is read from Solara's own templates, so a Solara
upgrade brings its new versions along.

Run ``python -m sim.ui.assets`` to fetch them ahead of a workshop.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import ipyvue
import solara

# `{{cdn}}/name@version/...` in the page template, `${this.getCdn()}/name@version/...` in widgets.
_CDN_URL = re.compile(
    r"(?:\{\{ ?cdn ?\}\}|\$\{this\.getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+@[\w.+-]+?)/")
NPM_TIMEOUT_S = 600


class WebAssetsError(RuntimeError):
    """The web assets are missing and cannot be fetched here (one-line message)."""


def cache_directory() -> Path:
    """Solara's asset cache ($SOLARA_ASSETS_PROXY_CACHE_DIR or <venv>/share/solara/cdn)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def web_packages() -> list[str]:
    """npm specs (name@version, exactly as in the asset URLs) that the view's page loads."""
    root = Path(solara.__file__).parent
    vue3 = ipyvue.__version__.startswith("3")
    files = [
        root / "server" / "templates" / "solara.html.j2",
        root / "widgets" / "vue" / "vegalite.vue",
    ]
    found: set[str] = set()
    for path in files:
        found.update(_CDN_URL.findall(path.read_text()))
    # The template names both Vuetify apps; the page loads the one matching ipyvue.
    unused = "solara-vuetify-app@" if vue3 else "solara-vuetify3-app@"
    packages = {p for p in found if unused not in p}
    from solara.server import settings

    if settings.assets.fontawesome_enabled:
        packages.add(settings.assets.fontawesome_path.strip("/").split("/")[0])
    return sorted(packages)


def missing_web_packages(cache: Path | None = None) -> list[str]:
    cache = cache or cache_directory()
    return [p for p in web_packages() if not (cache / p / "package.json").is_file()]


def ensure_web_assets(cache: Path | None = None, echo=None) -> list[str]:
    """Fetch the missing web assets into Solara's cache; return the packages fetched.

    Raises WebAssetsError (one line) when some are missing and npm is not installed or fails.
    """
    cache = cache or cache_directory()
    missing = missing_web_packages(cache)
    if not missing:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise WebAssetsError(
            f"the browser view needs {len(missing)} web packages ({', '.join(missing)}) that are "
            "not in Solara's cache and npm is not installed: install Node.js and npm, or run "
            "where the page can reach its CDN")
    if echo:
        echo(f"Fetching the browser view's web assets from the npm registry: {', '.join(missing)}")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loyalty-sim-assets-") as tmp:
        try:
            done = subprocess.run(
                [npm, "pack", *missing, "--json", "--pack-destination", tmp],
                cwd=tmp, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise WebAssetsError(
                f"npm pack did not finish in {NPM_TIMEOUT_S} s while fetching the browser "
                "view's web assets") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise WebAssetsError(f"npm pack failed fetching the browser view's web assets: "
                                 f"{last}")
        packed = json.loads(done.stdout)
        for spec, info in zip(missing, packed, strict=True):
            _unpack(Path(tmp) / info["filename"], cache / spec)
    return missing


def _unpack(tarball: Path, target: Path) -> None:
    """Extract an npm tarball's package/ folder to `target`, all or nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Staged beside the target so the final rename stays on one file system.
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(staging, filter="data")
        if not (target / "package.json").is_file():
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            try:
                os.replace(staging / "package", target)
            except OSError:
                # Another process (a second test worker) unpacked it first: fine if complete.
                if not (target / "package.json").is_file():
                    raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> int:  # pragma: no cover - command-line entry
    try:
        fetched = ensure_web_assets(echo=print)
    except WebAssetsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"web assets ready in {cache_directory()}"
          + (f" (fetched {len(fetched)})" if fetched else " (already there)"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
