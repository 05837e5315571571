"""`perso dev`: the demo shop, the CDN bucket and the event API on one local port.

    $ perso dev --port 8080
    perso dev: demo  http://127.0.0.1:8080/
               cdn   http://127.0.0.1:8080/cdn/   (CloudFront cache headers, gzip + brotli)
               api   http://127.0.0.1:8080/v1/    (infra.local)

- `/` serves `demo/` (the demo pages carry `<!--perso:snippet-->`, replaced by the
  embed code of `infra.bundle.snippet` so the demo always runs the current stub);
- `/cdn/` serves a folder laid out like the S3 bucket (`perso.js`, `runtime/<v>/`,
  `rulesets/<site>/`), built at start from the bundle and `examples/*.yaml`;
- `/v1/` goes to an API callable `(method, path, headers, body) -> (status, headers,
  body)`; the local backend (infra/local/stack.py) provides it. Tests swap in their own.
- `/reports/` lists the sites and `/reports/<site>` draws a site's experiment report live
  from the local backend's counters (infra/local/_reports.py).

While it serves with the local backend, `perso dev` announces its endpoints
(infra/local/discovery.py) so `perso report --target local` finds it.

The `perso dev` command that starts it is in infra/cli/dev.py.

Tests start it with `running(...)`, on an ephemeral loopback port in a thread:

    with running(cdn_dir=cdn, demo_dir=Path("demo")) as server:
        requests.get(server.url + "/cdn/perso.js")
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.bundle import snippet_html
from infra.local import DEMO_SITE
from infra.local._static import (
    PRECOMPRESSED_CODING,
    CompressionCache,
    FileEntry,
    cache_control,
    choose_encoding,
    content_type,
    etag_matches,
    is_compressible,
    precompressed,
)
from infra.local.devstack import ApiHandler, ApiResponse, build_cdn, local_api, local_backend

if TYPE_CHECKING:
    from infra.local._reports import LocalReports
    from infra.local.stack import LocalBackend

__all__ = [
    "DEFAULT_PORT",
    "ApiHandler",
    "ApiResponse",
    "DevServer",
    "attach_reports",
    "build_cdn",
    "local_api",
    "local_backend",
    "make_server",
    "running",
    "serve",
]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORT = 8080
SNIPPET_MARKER = b"<!--perso:snippet-->"

# (site, cdn, api) -> the HTML to put where the demo pages say <!--perso:snippet-->
SnippetRenderer = Callable[[str, str, str], str]


@dataclass(slots=True)
class DevServer:
    """A running dev server; `api` may be replaced while it runs (tests do)."""

    host: str
    port: int
    cdn_dir: Path
    demo_dir: Path
    api: ApiHandler | None = None
    snippet: SnippetRenderer | None = None
    quiet: bool = True
    files: CompressionCache = field(default_factory=CompressionCache)
    # The content codings the CDN offers, best first (benchmarks compare br with gzip).
    codings: tuple[str, ...] = ("br", "gzip")
    # Told (request path, bytes written: status line, headers and body) per request.
    on_sent: Callable[[str, int], None] | None = None
    # `/reports/`: set when the local backend runs (or by tests)
    reports: LocalReports | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    dev: DevServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Browsers drop keep-alive connections at will; only real faults are reported.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _CountingWriter:
    """The response stream, counting bytes so benchmarks see what went on the wire."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        written: int = self.raw.write(data)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "perso-dev"

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile)  # type: ignore[assignment]

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server answers malformed requests and unknown methods in HTML; every answer of
        # this server is one JSON sentence, as the API's are.
        self.close_connection = True
        text = message or explain or self.responses.get(code, ("Error",))[0]
        if code == 501:
            text = f"{self.command} is not a method this server answers."
        with contextlib.suppress(OSError):
            self._plain(code, text if text.endswith(".") else f"{text}.")

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.dev.quiet:
            sys.stderr.write(f"perso dev: {self.address_string()} {format % args}\n")

    def _dispatch(self) -> None:
        start = self.wfile.count if isinstance(self.wfile, _CountingWriter) else 0
        try:
            self._route()
        finally:
            on_sent = self.server.dev.on_sent
            if on_sent is not None and isinstance(self.wfile, _CountingWriter):
                on_sent(self.path, self.wfile.count - start)

    def _route(self) -> None:
        path = urlsplit(self.path).path
        try:
            if path == "/v1" or path.startswith("/v1/"):
                self._api()
            elif self.command not in ("GET", "HEAD"):
                self._plain(405, f"{self.command} is not allowed on {path}.", allow="GET, HEAD")
            elif path == "/reports" or path.startswith("/reports/"):
                self._reports(path)
            elif path.startswith("/cdn/"):
                self._file(self.server.dev.cdn_dir, unquote(path[len("/cdn/") :]), cdn=True)
            else:
                self._file(self.server.dev.demo_dir, unquote(path.lstrip("/")), cdn=False)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (navigations, aborted routes): nothing to answer
        except Exception as exc:  # a bug here must show as a 500 with its cause, not a hang
            with contextlib.suppress(OSError):
                self._plain(500, f"The dev server failed on {path}: {type(exc).__name__}: {exc}")

    # --- /v1/ -------------------------------------------------------------------

    def _api(self) -> None:
        length = _content_length(self.headers.get("Content-Length"))
        if isinstance(length, str):
            # The body was not read, so the connection can't carry another request.
            self.close_connection = True
            self._plain(413 if "larger" in length else 400, length)
            return
        body = self.rfile.read(length) if length else b""
        api = self.server.dev.api
        if api is None:
            self._plain(503, "No event API is running: the infra.local backend was not started.")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, out_headers, out_body = api(self.command, self.path, headers, body)
        except Exception as exc:  # a bug in the API must not take the dev server down
            self._plain(500, f"The local API failed: {type(exc).__name__}: {exc}")
            return
        self.send_response(status)
        for name, value in out_headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(out_body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out_body)

    # --- /reports/ -------------------------------------------------------------

    def _reports(self, path: str) -> None:
        reports = self.server.dev.reports
        if reports is None:
            self._plain(503, "No reports: the infra.local backend was not started.")
            return
        site = unquote(path[len("/reports") :]).strip("/")
        if site:
            status, page = reports.page(site, parse_qs(urlsplit(self.path).query))
        else:
            status, page = reports.index()
        body = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")  # live counters
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # --- files ------------------------------------------------------------------

    def _file(self, base: Path, rel: str, *, cdn: bool) -> None:
        target = _resolve(base, rel)
        if target is None:
            where = "the CDN folder" if cdn else "the demo"
            self._plain(404, f"/{'cdn/' if cdn else ''}{rel} is not in {where}.")
            return
        dev = self.server.dev
        packed = precompressed(target) if cdn else None
        entry = dev.files.entry(target if packed is None else packed)
        if packed is not None:
            # Stored compressed, as the bundle uploads it: sent so to every client, as S3 does.
            entry = FileEntry(entry.body, entry.digest, content_type(target))
        if not cdn and target.suffix == ".html" and SNIPPET_MARKER in entry.body:
            page = entry.body.replace(SNIPPET_MARKER, self._snippet().encode())
            entry = FileEntry(page, hashlib.sha256(page).hexdigest(), entry.mime)
        bucket_path = target.relative_to(base.resolve()).as_posix()
        compressible = packed is None and is_compressible(entry.mime, len(entry.body))
        encoding = choose_encoding(
            self.headers.get("Accept-Encoding", ""),
            compressible=compressible,
            offered=dev.codings,
        )
        headers = {
            "Content-Type": entry.mime,
            # The demo pages stand for the site's own HTML: always revalidated.
            "Cache-Control": cache_control(bucket_path) if cdn else "no-cache",
            "ETag": entry.etag(encoding),
            "Vary": "Accept-Encoding",
        }
        if cdn:
            headers["Access-Control-Allow-Origin"] = "*"
            headers["Timing-Allow-Origin"] = "*"
        if etag_matches(self.headers.get("If-None-Match", ""), {entry.etag(encoding)}):
            self.send_response(304)
            for name, value in headers.items():
                if name != "Content-Type":
                    self.send_header(name, value)
            self.end_headers()
            return
        body = dev.files.body(entry, encoding)
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        elif packed is not None:
            self.send_header("Content-Encoding", PRECOMPRESSED_CODING)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _snippet(self) -> str:
        render = self.server.dev.snippet or _default_snippet
        # The embed code wants absolute URLs: this server, as the browser addressed it.
        origin = f"http://{self.headers.get('Host') or f'127.0.0.1:{self.server.dev.port}'}"
        return render(DEMO_SITE, f"{origin}/cdn", f"{origin}/v1")

    def _plain(self, status: int, message: str, *, allow: str | None = None) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        if allow:
            self.send_header("Allow", allow)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


# API Gateway's HTTP API refuses request bodies over 10 MB before the function runs; the
# handler's own (smaller) limit then answers 413 with its sentence.
MAX_REQUEST_BYTES = 10 * 1024 * 1024


def _content_length(header: str | None) -> int | str:
    """The body's length, or a sentence saying what is wrong with the header.

    >>> _content_length("12"), _content_length(None)
    (12, 0)
    >>> _content_length("-1")
    'Content-Length must be a whole number of bytes, not -1.'
    """
    if header is None or header == "":
        return 0
    text = header.strip()
    # isdigit() alone accepts "²" and fullwidth digits; int() would accept "+5" and "1_0".
    if not (text.isascii() and text.isdigit()):
        return f"Content-Length must be a whole number of bytes, not {header[:40]}."
    length = int(text)
    if length > MAX_REQUEST_BYTES:
        return f"The body is larger than {MAX_REQUEST_BYTES} bytes, the API's limit."
    return length


def _resolve(base: Path, rel: str) -> Path | None:
    """The file under `base` for a URL path, or None (missing or outside `base`)."""
    base = base.resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def _default_snippet(site: str, cdn: str, api: str) -> str:
    """The embed code from `infra.bundle.snippet`."""
    return snippet_html(site=site, cdn=cdn, api=api)


# --- running -------------------------------------------------------------------------


def make_server(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    cdn_dir: Path,
    demo_dir: Path,
    api: ApiHandler | None = None,
    snippet: SnippetRenderer | None = None,
    quiet: bool = True,
    compress_cache: Path | None = None,
) -> tuple[_Server, DevServer]:
    """A bound, not yet serving, server; port 0 picks a free one."""
    server = _Server((host, port), _Handler)
    dev = DevServer(
        host=host,
        port=server.server_address[1],
        cdn_dir=cdn_dir,
        demo_dir=demo_dir,
        api=api,
        snippet=snippet,
        quiet=quiet,
        files=CompressionCache(disk_dir=compress_cache),
    )
    server.dev = dev
    return server, dev


@contextlib.contextmanager
def running(
    *,
    cdn_dir: Path,
    demo_dir: Path = ROOT / "demo",
    api: ApiHandler | None = None,
    snippet: SnippetRenderer | None = None,
    compress_cache: Path | None = ROOT / ".cache" / "devserver",
) -> Iterator[DevServer]:
    """Serve on an ephemeral 127.0.0.1 port in a thread; stopped on exit."""
    server, dev = make_server(
        port=0,
        cdn_dir=cdn_dir,
        demo_dir=demo_dir,
        api=api,
        snippet=snippet,
        compress_cache=compress_cache,
    )
    thread = threading.Thread(target=server.serve_forever, name="perso-dev", daemon=True)
    thread.start()
    try:
        yield dev
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def attach_reports(dev: DevServer, backend: LocalBackend, stack: contextlib.ExitStack) -> None:
    """Serve `/reports/` from `backend`, and announce the endpoints until `stack` closes."""
    from infra.local._reports import LocalReports
    from infra.local.discovery import LOCAL_CREDENTIALS, DevEndpoints, announce
    from infra.report import TableTarget
    from lambdas.models.settings import get_settings

    shards = get_settings().counter_shards  # the backend's environment is set by now
    dev.reports = LocalReports(
        TableTarget(
            table=backend.table,
            bucket=backend.bucket,
            endpoint_url=backend.endpoint_url,
            shards=shards,
            credentials=LOCAL_CREDENTIALS,
        )
    )
    endpoints = DevEndpoints(
        url=dev.url,
        endpoint_url=backend.endpoint_url,
        table=backend.table,
        bucket=backend.bucket,
        shards=shards,
    )
    stack.enter_context(announce(endpoints))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(
    *,
    port: int = DEFAULT_PORT,
    cdn_dir: Path,
    demo_dir: Path,
    api: ApiHandler | None = None,
    start_local_api: bool = False,
    host: str = "127.0.0.1",
    quiet: bool = False,
    echo: Callable[[str], None] = print,
    publish_every: float = 60.0,
) -> None:
    """Serve until Ctrl-C (or SIGTERM), then stop cleanly (no traceback).

    With `start_local_api` (and no `api`), the local backend is started once the port is
    known, so its CORS check admits the demo's origin, and stopped at the end.
    """
    previous = None
    previous_int = None
    if threading.current_thread() is threading.main_thread():
        # A `kill` stops it as Ctrl-C does: moto, the loops and the announcement go too.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        # A shell's background job (`perso dev &`, a script) inherits SIGINT ignored, and
        # Python then never raises KeyboardInterrupt: Ctrl-C must always stop the server.
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    server, dev = make_server(
        host=host,
        port=port,
        cdn_dir=cdn_dir,
        demo_dir=demo_dir,
        api=api,
        quiet=quiet,
        compress_cache=ROOT / ".cache" / "devserver",
    )
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(server.server_close)
            api_note = "given by the caller" if api else "none"
            if api is None and start_local_api:
                try:
                    backend = stack.enter_context(
                        local_backend(
                            origin_ports=[dev.port], cdn_dir=cdn_dir, publish_every=publish_every
                        )
                    )
                    dev.api = backend.api
                    attach_reports(dev, backend, stack)
                    api_note = "infra.local"
                except Exception as exc:  # the demo still runs; the console says why
                    api_note = f"none: infra.local did not start ({type(exc).__name__}: {exc})"
            echo(f"perso dev: demo  {dev.url}/")
            echo(f"           cdn   {dev.url}/cdn/   (CloudFront cache headers, gzip + brotli)")
            echo(f"           api   {dev.url}/v1/    ({api_note})")
            if dev.reports is not None:
                echo(f"           reports {dev.url}/reports/ (live from the local counters)")
            echo("           Ctrl-C stops it.")
            server.serve_forever()
    except KeyboardInterrupt:
        # Ctrl-C may come at any moment, even before serving began; always a clean stop.
        echo("perso dev: stopped.")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
