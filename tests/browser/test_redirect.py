"""A redirect written as a path stays on the site: `//evil.example/x`, `/\\evil.example/x`
and their variants with tabs, newlines, backslashes or a scheme without slashes read
as paths to a reviewer but a URL parser sends them to another host. The runtime
refuses them; a same-site path still redirects (with its loop mark).

The artifact is built from the demo ruleset with the redirects put straight into the
model, bypassing the compiler; each variant answers one `?v=` value of the page URL.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from infra.local.devserver import DevServer
from tests.browser._support import (
    DESKTOP,
    RecordingApi,
    demo_ruleset_data,
    encode_ruleset_data,
    fixed_experience,
    serve_ruleset,
    wait_for_decision,
)

DISGUISED = [
    "//evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "/\t/evil.example/x",
    "/\n/evil.example/x",
    "\t//evil.example/x",
    " //evil.example/x",
    "https:evil.example/x",
    "http:\\\\evil.example/x",
]
SAME_SITE = "/product.html?id=tee-01"


def _redirect(exp_id: str, when: str, target: str) -> dict[str, Any]:
    return fixed_experience(
        exp_id, "landing", {"redirect": target}, audience={"page.query.v": when}
    )


def _artifact() -> bytes:
    data = demo_ruleset_data()
    data["experiences"] = [
        *(_redirect(f"r{i}", str(i), target) for i, target in enumerate(DISGUISED)),
        _redirect("same-site", "ok", SAME_SITE),
    ]
    return encode_ruleset_data(data)


def test_redirects_that_read_as_paths_never_leave_the_site(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given redirects that look like paths but name another host
    context = new_context(**DESKTOP, locale="en-US")
    serve_ruleset(context, _artifact())
    evil: list[str] = []
    context.route(
        re.compile(r"^https?://evil\.example/"),
        lambda route: (evil.append(route.request.url), route.fulfill(status=200, body="evil"))[1],
    )
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "redirect" in m.text else None)

    for i, target in enumerate(DISGUISED):
        # When a page gets one of them
        here = f"{dev_server.url}/?v={i}"
        page.goto(here)
        record = wait_for_decision(page)
        page.wait_for_timeout(300)  # a redirect would have started by now

        # Then the visitor stays on the page, and the runtime says why
        assert page.url == here, (target, page.url)
        assert record["errors"] == [], record["errors"]
    assert evil == []
    assert len(refused) == len(DISGUISED), refused

    # And a same-site path still redirects, with the loop mark
    page.goto(f"{dev_server.url}/?v=ok")
    page.wait_for_url("**/product.html?id=tee-01&perso_rd=1", timeout=90_000)
    assert urlsplit(page.url).netloc == urlsplit(dev_server.url).netloc
