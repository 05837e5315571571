"""The HTML a site pastes in <head> (`perso snippet`): the minified stub inline, then
`perso.init(...)`. The runtime then loads itself asynchronously from the CDN.

>>> "perso.init(" in snippet_html(site="demo-shop", cdn="https://cdn.example")
True
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["SnippetError", "init_call", "minified_stub", "snippet_html"]

ROOT = Path(__file__).resolve().parents[2]
_SITE = re.compile(r"^[a-z0-9-]+$")


class SnippetError(ValueError):
    """An option that would give a broken snippet."""


def _url(value: str, what: str) -> str:
    if value.startswith("/") and not value.startswith("//"):
        return value.rstrip("/") or "/"  # same origin as the page (the dev server's /cdn/)
    parts = urlsplit(value)
    local = parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.netloc or not (parts.scheme == "https" or local):
        raise SnippetError(
            f"{what} must be an https:// URL (http:// only on localhost) or a path starting "
            f"with /, got {value!r}"
        )
    return value.rstrip("/")


@lru_cache(maxsize=1)
def minified_stub() -> str:
    """snippet/stub.js with src/instant.js, bundled and minified by esbuild (ES5 in and out)."""
    exe = ROOT / "node_modules" / ".bin" / "esbuild"
    done = subprocess.run(
        [
            str(exe),
            str(ROOT / "snippet" / "stub.js"),
            "--bundle",
            "--format=iife",
            "--minify",
            "--target=es5",
            "--log-level=warning",
            "--legal-comments=none",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SnippetError(f"esbuild could not minify snippet/stub.js: {done.stderr.strip()}")
    return done.stdout.strip()


def init_call(*, site: str, cdn: str, api: str | None = None, hide: int = 300) -> str:
    """`perso.init({...});` with the options checked and safely escaped for <script>."""
    if not _SITE.match(site):
        raise SnippetError(f"site must be lowercase letters, digits and dashes, got {site!r}")
    if not 0 <= hide <= 5000:
        raise SnippetError(f"hide must be between 0 and 5000 ms, got {hide}")
    opts: dict[str, object] = {"site": site, "cdn": _url(cdn, "cdn")}
    if api:
        opts["api"] = _url(api, "api")
    opts["hide"] = hide
    # "<" escaped so no value can close the <script> element.
    return "perso.init(" + json.dumps(opts, separators=(",", ":")).replace("<", "\\u003c") + ");"


def snippet_html(*, site: str, cdn: str, api: str | None = None, hide: int = 300) -> str:
    call = init_call(site=site, cdn=cdn, api=api, hide=hide)
    parts = urlsplit(cdn)
    # A preconnect only helps for another origin.
    hint = (
        f'<link rel="preconnect" href="{parts.scheme}://{parts.netloc}" crossorigin>\n'
        if parts.netloc
        else ""
    )
    return f"{hint}<script>{minified_stub()}\n{call}</script>"
