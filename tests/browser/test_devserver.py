"""The dev server speaks HTTP as CloudFront does: cache headers, types, ETags, codings.

These run against the real server on loopback (no browser needed), over a CDN folder
written by the test so each expectation names its own input.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import brotli
import pytest
import requests

from infra.local.devserver import DevServer, running

ROOT = Path(__file__).resolve().parents[2]
SHA = "ab" * 32
JS = b"export const answer = 42;\n" * 200  # compressible and over CloudFront's 1,000 bytes


@pytest.fixture(scope="module")
def cdn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bucket")
    (root / "runtime" / "1.2.3").mkdir(parents=True)
    (root / "rulesets" / "demo-shop").mkdir(parents=True)
    (root / "perso.js").write_bytes(JS)
    (root / "runtime" / "1.2.3" / "worker.mjs").write_bytes(JS)
    (root / "runtime" / "1.2.3" / "core.wasm").write_bytes(b"\0asm" + b"\1" * 4000)
    (root / "runtime" / "1.2.3" / "edge-0.1.0-py3-none-any.whl").write_bytes(b"PK" + b"\0" * 50)
    (root / "runtime" / "1.2.3" / "stdlib.zip").write_bytes(b"PK" + b"\0" * 5000)
    (root / "rulesets" / "demo-shop" / f"{SHA}.msgpack").write_bytes(b"\x81\xa6schema\x01" * 300)
    (root / "rulesets" / "demo-shop" / "latest.json").write_text('{"version": "x"}')
    return root


@pytest.fixture(scope="module")
def server(cdn: Path) -> Iterator[DevServer]:
    with running(cdn_dir=cdn, compress_cache=None) as dev:
        yield dev


def get(server: DevServer, path: str, **headers: str) -> requests.Response:
    # stream=True keeps the body as sent, so encoded sizes can be checked.
    return requests.get(server.url + path, headers=headers, stream=True, timeout=10)


IMMUTABLE = "public, max-age=31536000, immutable"
POINTER = "max-age=60, stale-while-revalidate=86400, stale-if-error=604800"


@pytest.mark.parametrize(
    ("path", "cache_control", "content_type"),
    [
        ("/cdn/perso.js", POINTER, "application/javascript"),
        ("/cdn/rulesets/demo-shop/latest.json", POINTER, "application/json"),
        (f"/cdn/rulesets/demo-shop/{SHA}.msgpack", IMMUTABLE, "application/octet-stream"),
        ("/cdn/runtime/1.2.3/worker.mjs", IMMUTABLE, "application/javascript"),
        ("/cdn/runtime/1.2.3/core.wasm", IMMUTABLE, "application/wasm"),
        ("/cdn/runtime/1.2.3/edge-0.1.0-py3-none-any.whl", IMMUTABLE, "application/zip"),
        ("/cdn/runtime/1.2.3/stdlib.zip", IMMUTABLE, "application/zip"),
    ],
)
def test_cache_control_and_type_follow_the_path_kind(
    server: DevServer, path: str, cache_control: str, content_type: str
) -> None:
    response = get(server, path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == cache_control
    assert response.headers["Content-Type"] == content_type


def test_brotli_is_preferred_and_decodes_to_the_file(server: DevServer) -> None:
    response = get(server, "/cdn/perso.js", **{"Accept-Encoding": "gzip, deflate, br"})
    raw = response.raw.read()
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) == len(raw) < len(JS)
    assert brotli.decompress(raw) == JS


def test_gzip_when_brotli_is_not_accepted(server: DevServer) -> None:
    response = get(server, "/cdn/runtime/1.2.3/core.wasm", **{"Accept-Encoding": "gzip, br;q=0"})
    raw = response.raw.read()
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(raw)[:4] == b"\0asm"


@pytest.mark.parametrize(
    "path",
    [
        f"/cdn/rulesets/demo-shop/{SHA}.msgpack",  # not a type CloudFront compresses
        "/cdn/rulesets/demo-shop/latest.json",  # under CloudFront's 1,000 bytes
        "/cdn/runtime/1.2.3/stdlib.zip",
    ],
)
def test_not_compressed_where_cloudfront_would_not(server: DevServer, path: str) -> None:
    response = get(server, path, **{"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in response.headers


def test_if_none_match_gives_304_per_representation(server: DevServer) -> None:
    first = get(server, "/cdn/perso.js", **{"Accept-Encoding": "br"})
    etag = first.headers["ETag"]
    again = get(server, "/cdn/perso.js", **{"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.raw.read() == b""
    # The gzip representation is a different one: its validator does not match br's.
    other = get(server, "/cdn/perso.js", **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert other.status_code == 200


def test_paths_outside_the_folder_are_not_served(server: DevServer) -> None:
    response = requests.get(server.url + "/cdn/%2e%2e/%2e%2e/etc/passwd", timeout=10)
    assert response.status_code == 404
    assert "not in the CDN folder" in response.json()["error"]


def test_api_seam_gets_method_path_headers_and_body(server: DevServer) -> None:
    seen: list[tuple[str, str, Mapping[str, str], bytes]] = []

    def api(
        method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        seen.append((method, path, headers, body))
        return 202, {"Content-Type": "application/json", "X-Api": "test"}, b'{"ok": true}'

    server.api = api
    try:
        response = requests.post(
            server.url + "/v1/events?x=1",
            data=b'{"events": []}',
            headers={"Content-Type": "text/plain"},
            timeout=10,
        )
    finally:
        server.api = None
    assert response.status_code == 202
    assert response.headers["X-Api"] == "test"
    assert response.json() == {"ok": True}
    method, path, headers, body = seen[0]
    assert (method, path, body) == ("POST", "/v1/events?x=1", b'{"events": []}')
    assert headers["content-type"] == "text/plain"


def test_without_an_api_v1_says_so(server: DevServer) -> None:
    response = requests.post(server.url + "/v1/events", data=b"{}", timeout=10)
    assert response.status_code == 503
    assert "infra.local" in response.json()["error"]


def test_demo_pages_carry_the_snippet_in_place_of_the_marker(cdn: Path) -> None:
    def snippet(site: str, cdn_url: str, api: str) -> str:
        return f"<script>/* {site} {cdn_url} {api} */</script>"

    with running(cdn_dir=cdn, snippet=snippet, compress_cache=None) as dev:
        html = requests.get(dev.url + "/", timeout=10).text
        url = dev.url
    assert f"<script>/* demo-shop {url}/cdn {url}/v1 */</script>" in html
    assert "<!--perso:snippet-->" not in html


def test_perso_dev_prints_urls_and_stops_cleanly_on_ctrl_c(cdn: Path) -> None:
    # Given `perso dev` serving an existing CDN folder on a free port
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from infra.cli import main; main()",
            "dev",
            "--port",
            "0",
            "--no-api",
            "--cdn",
            str(cdn),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        deadline = time.monotonic() + 20
        while "Ctrl-C" not in first and time.monotonic() < deadline:
            first += process.stdout.readline()
        # When it gets Ctrl-C
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # Then it printed its URLs, said it stopped, exited 0 and showed no traceback
    assert "demo  http://127.0.0.1:" in first
    assert "/cdn/" in first and "/v1/" in first
    assert "stopped" in out
    assert process.returncode == 0
    assert "Traceback" not in err


def test_on_sent_counts_what_went_on_the_wire(server: DevServer) -> None:
    sent: list[tuple[str, int]] = []
    server.on_sent = lambda path, size: sent.append((path, size))
    try:
        response = get(server, "/cdn/perso.js", **{"Accept-Encoding": "br"})
        body = response.raw.read()
        again = get(
            server,
            "/cdn/perso.js",
            **{"Accept-Encoding": "br", "If-None-Match": response.headers["ETag"]},
        )
        again.raw.read()
        # The count is reported once the answer is written, a moment after the client has it.
        deadline = time.monotonic() + 5
        while len(sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        server.on_sent = None
    assert [path for path, _ in sent] == ["/cdn/perso.js", "/cdn/perso.js"]
    # The first answer is the brotli body plus its status line and headers; the 304 is
    # headers only.
    assert len(body) < sent[0][1] < len(body) + 1_000
    assert 0 < sent[1][1] < 1_000


def test_bucket_mirror_seeds_the_bucket_and_brings_back_publishes(tmp_path: Path) -> None:
    from infra.local.bucket import BucketMirror
    from infra.local.stack import start_local_backend

    # Given a CDN folder and the local backend's bucket (moto's S3), seeded from it
    folder = tmp_path / "cdn"
    (folder / "rulesets" / "demo-shop").mkdir(parents=True)
    (folder / "rulesets" / "demo-shop" / "latest.json").write_text('{"sha256": "old"}')
    backend = start_local_backend(port=0, loops=False)
    try:
        s3 = backend.client("s3")
        mirror = BucketMirror(s3, backend.bucket, folder)
        mirror.seed(ROOT / "examples")
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=backend.bucket)["Contents"]}
        assert {"rulesets/demo-shop/latest.json", "sources/demo-shop/ruleset.yaml"} <= keys

        # When the publisher writes a new artifact, a history entry and the pointer
        artifact_key = f"rulesets/demo-shop/{SHA}.msgpack"
        for key, body in (
            (artifact_key, b"\x81\xa6schema\x01"),
            ("rulesets/demo-shop/history/20261122T170000Z.json", b"{}"),
            ("rulesets/demo-shop/latest.json", b'{"sha256": "new"}'),
        ):
            s3.put_object(Bucket=backend.bucket, Key=key, Body=body)
        copied = mirror.sync_once()
    finally:
        backend.stop()

    # Then the artifact and then the pointer are in the folder the dev server serves
    assert copied == [artifact_key, "rulesets/demo-shop/latest.json"]
    assert (folder / artifact_key).read_bytes() == b"\x81\xa6schema\x01"
    assert (folder / "rulesets" / "demo-shop" / "latest.json").read_text() == '{"sha256": "new"}'
    assert not (folder / "rulesets" / "demo-shop" / "history").exists()


def _raw(server: DevServer, request: bytes) -> bytes:
    """Send bytes as they are (requests refuses a negative Content-Length) and read the answer."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:  # the server held the connection open: the defect itself
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


@pytest.mark.parametrize("length", [b"-1", b"abc", b"\xef\xbc\x95", b"99999999999"])
def test_a_bad_content_length_gets_a_sentence_and_frees_the_thread(
    server: DevServer, length: bytes
) -> None:
    # Given an API behind the dev server
    server.api = lambda method, path, headers, body: (200, {}, b"{}")
    try:
        # When a request names a negative, non-numeric or huge body length
        answer = _raw(
            server,
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}",
        )
    finally:
        server.api = None
    # Then it is answered at once with a 4xx sentence in JSON, and the connection is closed
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert status in (400, 413), answer[:200]
    assert "Content-Length" in json.loads(body)["error"] or "larger" in json.loads(body)["error"]


@pytest.mark.parametrize("method", ["PATCH", "TRACE", "BREW"])
def test_other_methods_get_a_json_sentence_not_html(server: DevServer, method: str) -> None:
    response = requests.request(method, server.url + "/cdn/perso.js", timeout=10)
    assert response.status_code in (405, 501)
    assert response.headers["Content-Type"] == "application/json"
    assert method in response.json()["error"]


def test_a_precompressed_runtime_file_is_sent_as_brotli_and_decodes_to_the_same_bytes(
    tmp_path: Path,
) -> None:
    # Given a runtime folder with a large snapshot (zeros and noise, as a memory image),
    # over CloudFront's 10,000,000 bytes and of a type it never compresses
    from infra.bundle.precompress import precompress_dir, upload_objects

    runtime = tmp_path / "runtime" / "1.2.3"
    runtime.mkdir(parents=True)
    noise = os.urandom(1_000_000)
    snapshot = (b"\0" * 3_000_000 + noise + JS * 100) * 3
    (runtime / "snapshot.bin").write_bytes(snapshot)
    (runtime / "stdlib.zip").write_bytes(b"PK" + os.urandom(5000))
    # When the bundle pre-compresses the folder
    sizes = precompress_dir(runtime)
    # Then only the snapshot gets a .br, uploaded under its own key with Content-Encoding
    assert set(sizes) == {"snapshot.bin"}
    before, after = sizes["snapshot.bin"]
    print(f"snapshot stand-in: {before:,} bytes -> {after:,} bytes brotli")
    uploads = {u.name: (u.body.name, u.content_encoding) for u in upload_objects(runtime)}
    assert uploads == {
        "snapshot.bin": ("snapshot.bin.br", "br"),
        "stdlib.zip": ("stdlib.zip", None),
    }
    # And perso dev sends it as S3 + CloudFront would: brotli, whatever the client asked
    with running(cdn_dir=tmp_path, compress_cache=None) as dev:
        for accept in ("gzip, deflate, br", ""):
            response = get(dev, "/cdn/runtime/1.2.3/snapshot.bin", **{"Accept-Encoding": accept})
            raw = response.raw.read()
            assert response.status_code == 200
            assert response.headers["Content-Encoding"] == "br"
            assert response.headers["Content-Type"] == "application/octet-stream"
            assert int(response.headers["Content-Length"]) == len(raw) == after
            assert brotli.decompress(raw) == snapshot
        # and requests (like a browser) decodes it transparently
        assert requests.get(dev.url + "/cdn/runtime/1.2.3/snapshot.bin", timeout=30).content == (
            snapshot
        )
