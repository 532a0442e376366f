"""A small threaded HTTP server on 127.0.0.1, for tests, the demo and the benchmark.

Feeds and article pages are served from memory so that the whole pipeline can run against a
real socket, through the real guarded fetcher, without touching the internet. Besides static
and dynamic routes it can misbehave the ways real servers do (never answer, trickle bytes,
gzip, redirect, chunked bodies, lie about Content-Length), which is what the fetcher's guards
are tested against.

    with LocalServer() as server:
        server.route("/feed.xml", body=rss_bytes, content_type="application/rss+xml")
        server.redirect("/old", "/feed.xml")
        server.route("/slow", hang=True)
        fetch(server.url("/feed.xml"))

It binds only to loopback, serves every connection on a daemon thread and shuts down
promptly even while a handler is hanging: hanging and trickling handlers wait on the
server's stop event, and open connections are shut down on close.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import NamedTuple, Self
from urllib.parse import urlsplit

__all__ = ["DynamicHandler", "LocalServer", "RequestInfo"]

_NO_BODY_STATUSES = frozenset({204, 304})


class RequestInfo(NamedTuple):
    """One request as the server received it (header names lower-cased)."""

    method: str
    path: str  # the request target, query string included
    headers: dict[str, str]


DynamicHandler = Callable[[RequestInfo], tuple[int, Mapping[str, str], bytes]]


@dataclass(frozen=True)
class _Route:
    """A canned response and how to misbehave while sending it."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    hang: bool = False  # read the request, then never answer
    delay: float = 0.0  # seconds to wait before answering
    trickle: float | None = None  # seconds between single body bytes
    chunked: bool = False  # Transfer-Encoding: chunked instead of Content-Length


class LocalServer:
    """An HTTP/1.1 server on 127.0.0.1 at a free port, listening as soon as it is created.

    Unregistered paths answer 404. Every request received is appended to `requests`.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        if not host.startswith("127."):
            raise ValueError("LocalServer binds loopback addresses only (127.x.y.z)")
        self.host = host
        self._lock = threading.Lock()
        self._routes: dict[str, _Route | DynamicHandler] = {}
        self._requests: list[RequestInfo] = []
        self._connections: set[socket.socket] = set()
        self.stopping = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"localserver-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._closed = False

    # --- addresses -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash; another 127.x host when asked for)."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL of `path` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # --- configuring responses -------------------------------------------------------------

    def route(
        self,
        path: str,
        *,
        body: bytes | str = b"",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "text/plain; charset=utf-8",
        gzip: bool = False,
        hang: bool = False,
        delay: float = 0.0,
        trickle: float | None = None,
        chunked: bool = False,
    ) -> None:
        """Serve a fixed response at `path` (matched without its query string).

        `gzip` compresses `body` and labels it; to serve bytes that are already compressed
        (a gzip bomb, say) pass them with ``headers={"Content-Encoding": "gzip"}``. A
        Content-Length in `headers` is sent as given, even if it does not match the body.
        """
        data = body.encode("utf-8") if isinstance(body, str) else body
        merged = {"Content-Type": content_type, **(headers or {})}
        if gzip:
            data = gzip_module.compress(data)
            merged["Content-Encoding"] = "gzip"
        route = _Route(
            status=status,
            headers=tuple(merged.items()),
            body=data,
            hang=hang,
            delay=delay,
            trickle=trickle,
            chunked=chunked,
        )
        with self._lock:
            self._routes[path] = route

    def handler(self, path: str, fn: DynamicHandler) -> None:
        """Answer `path` with ``fn(request_info) -> (status, headers, body)``, once per request."""
        with self._lock:
            self._routes[path] = fn

    def redirect(self, path: str, location: str, *, status: int = 302) -> None:
        """Redirect `path` to `location` (absolute URL or path on this server)."""
        self.route(path, status=status, headers={"Location": location})

    @property
    def requests(self) -> list[RequestInfo]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving; wakes hanging handlers and drops open connections, so it is quick."""
        if self._closed:
            return
        self._closed = True
        self.stopping.set()
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- used by the request handler -------------------------------------------------------

    def _record(self, info: RequestInfo) -> _Route | DynamicHandler | None:
        path = urlsplit(info.path).path
        with self._lock:
            self._requests.append(info)
            return self._routes.get(path)

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to a free loopback port, never waiting on handler threads."""

    daemon_threads = True
    block_on_close = False  # close() must not wait for a handler that is hanging on purpose
    allow_reuse_address = True

    def __init__(self, owner: LocalServer) -> None:
        self.owner = owner
        super().__init__((owner.host, 0), _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can stall
        # for seconds on machines without a resolver; loopback needs no name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client giving up mid-response (the fetcher aborting a too-large body, a timeout)
        # is routine here; anything else is a bug worth a traceback.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError) or self.owner.stopping.is_set():
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _RequestHandler(BaseHTTPRequestHandler):
    """Serves one connection (HTTP/1.1 keep-alive) from the owner's routes."""

    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections give their thread back after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, open_=False)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: tests and the demo inspect `LocalServer.requests` instead of stderr."""

    def _serve(self, *, send_body: bool) -> None:
        owner = self.server.owner
        info = RequestInfo(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
        )
        found = owner._record(info)
        if found is None:
            route = _Route(404, (("Content-Type", "text/plain; charset=utf-8"),), b"not found\n")
        elif isinstance(found, _Route):
            route = found
        else:
            try:
                status, headers, body = found(info)
            except Exception:  # a broken test handler should look like a broken server
                status, headers, body = 500, {}, b"handler failed\n"
            route = _Route(status=status, headers=tuple(headers.items()), body=body)

        if route.hang:
            owner.stopping.wait()  # until close(): the client sees a connection that never answers
            self.close_connection = True
            return
        if route.delay and owner.stopping.wait(route.delay):
            self.close_connection = True
            return
        self._send(route, send_body=send_body)

    def _send(self, route: _Route, *, send_body: bool) -> None:
        owner = self.server.owner
        self.send_response(route.status)
        declared: str | None = None
        for name, value in route.headers:
            if name.lower() == "content-length":
                declared = value
            self.send_header(name, value)
        has_body = route.status not in _NO_BODY_STATUSES and route.status >= 200
        chunked = route.chunked and has_body and declared is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif has_body and declared is None:
            self.send_header("Content-Length", str(len(route.body)))
        if declared is not None and declared != str(len(route.body)):
            self.close_connection = True  # the framing is a lie; don't reuse the connection
        self.end_headers()
        if not send_body or not has_body:
            return
        if route.trickle is not None:
            for index in range(len(route.body)):
                self._write(route.body[index : index + 1], chunked=chunked)
                if owner.stopping.wait(route.trickle):
                    self.close_connection = True
                    return
        else:
            step = 64 * 1024
            for start in range(0, len(route.body), step):
                self._write(route.body[start : start + step], chunked=chunked)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write(self, data: bytes, *, chunked: bool) -> None:
        if chunked:
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        else:
            self.wfile.write(data)
        self.wfile.flush()
