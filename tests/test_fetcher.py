"""Behaviour of the guarded fetcher against real loopback servers (pipeline.localserver).

Most tests reach the local server through a fetcher that allows private networks, as the
demo does. The refusal tests use the product default (private networks refused); where a
test needs one hop to reach the loopback server and a later hop to be refused, it admits
exactly 127.0.0.1 through the fetcher's `address_allowed` hook.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import (
    BlockedAddressError,
    FetchError,
    FetchTimeoutError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from pipeline.fetcher import (
    FetchOptions,
    GuardedFetcher,
    IPAddress,
    is_public_address,
    redact_url,
)
from pipeline.localserver import LocalServer, RequestInfo
from pipeline.settings import DEFAULT_USER_AGENT

MiB = 1024 * 1024
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def only_loopback_127_0_0_1(address: IPAddress) -> bool:
    return address == LOOPBACK


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture
def make_fetcher() -> Iterator[Callable[..., GuardedFetcher]]:
    """Build fetchers (private networks allowed unless overridden) and close them all."""
    made: list[GuardedFetcher] = []

    def make(address_allowed: Any = None, **overrides: Any) -> GuardedFetcher:
        options = {"allow_private_networks": True, "timeout": 5.0, **overrides}
        fetcher = GuardedFetcher(FetchOptions(**options), address_allowed=address_allowed)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


@pytest.fixture
def fetcher(make_fetcher: Callable[..., GuardedFetcher]) -> GuardedFetcher:
    return make_fetcher()


def gzip_of_zeros(size: int) -> bytes:
    """gzip-compress `size` zero bytes without ever holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MiB)
    parts = [compressor.compress(block) for _ in range(size // MiB)]
    parts.append(compressor.compress(bytes(size % MiB)))
    parts.append(compressor.flush())
    return b"".join(parts)


# --- statuses are results -------------------------------------------------------------------------


def test_ok_response_returns_status_lowercased_headers_body_and_final_url(
    server: LocalServer, fetcher: GuardedFetcher
) -> None:
    server.route("/feed.xml", body=b"<rss/>", content_type="application/rss+xml", headers={"ETag": '"v1"'})

    response = fetcher.fetch(server.url("/feed.xml"))

    assert response.status == 200
    assert response.body == b"<rss/>"
    assert response.headers["content-type"] == "application/rss+xml"
    assert response.headers["etag"] == '"v1"'
    assert all(name == name.lower() for name in response.headers)
    assert response.url == server.url("/feed.xml")
    assert response.elapsed >= 0


def test_not_modified_is_passed_through_and_conditional_headers_are_sent(
    server: LocalServer, fetcher: GuardedFetcher
) -> None:
    server.route("/feed.xml", status=304, headers={"ETag": '"v1"'})

    response = fetcher.fetch(
        server.url("/feed.xml"),
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 02 Mar 2026 10:00:00 GMT"},
    )

    assert response.status == 304
    assert response.body == b""
    sent = server.requests[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 02 Mar 2026 10:00:00 GMT"


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_client_and_server_errors_are_returned_as_statuses(
    server: LocalServer, fetcher: GuardedFetcher, status: int
) -> None:
    server.route("/broken", status=status, body=b"nope")

    response = fetcher.fetch(server.url("/broken"))

    assert (response.status, response.body) == (status, b"nope")


def test_unregistered_path_on_the_local_server_is_a_404(server: LocalServer, fetcher: GuardedFetcher) -> None:
    assert fetcher.fetch(server.url("/no/such/page")).status == 404


def test_rate_limited_response_exposes_retry_after(server: LocalServer, fetcher: GuardedFetcher) -> None:
    server.route("/feed.xml", status=429, headers={"Retry-After": "3600"})

    response = fetcher.fetch(server.url("/feed.xml"))

    assert response.status == 429
    assert response.headers["retry-after"] == "3600"


def test_dynamic_handler_sees_the_request(server: LocalServer, fetcher: GuardedFetcher) -> None:
    def echo(request: RequestInfo) -> tuple[int, Mapping[str, str], bytes]:
        return 200, {"X-Path": request.path}, request.method.encode()

    server.handler("/echo", echo)

    response = fetcher.fetch(server.url("/echo?q=1"))

    assert response.body == b"GET"
    assert response.headers["x-path"] == "/echo?q=1"


# --- request headers ------------------------------------------------------------------------------


def test_user_agent_and_accept_encoding_are_sent(server: LocalServer, fetcher: GuardedFetcher) -> None:
    server.route("/", body=b"ok")

    fetcher.fetch(server.url("/"))

    sent = server.requests[-1].headers
    assert sent["user-agent"] == DEFAULT_USER_AGENT
    assert sent["accept-encoding"] == "gzip, deflate"


def test_configured_user_agent_is_sent(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.route("/", body=b"ok")

    make_fetcher(user_agent="compactwatch-test/1").fetch(server.url("/"))

    assert server.requests[-1].headers["user-agent"] == "compactwatch-test/1"


def test_caller_cannot_ask_for_encodings_the_fetcher_cannot_cap(
    server: LocalServer, fetcher: GuardedFetcher
) -> None:
    server.route("/", body=b"ok")

    fetcher.fetch(server.url("/"), headers={"Accept-Encoding": "br, zstd"})

    assert server.requests[-1].headers["accept-encoding"] == "gzip, deflate"


# --- decoding and the size cap --------------------------------------------------------------------


def test_gzip_body_is_decompressed(server: LocalServer, fetcher: GuardedFetcher) -> None:
    server.route("/feed.xml", body=b"<rss>" + b"a" * 10_000 + b"</rss>", gzip=True)

    response = fetcher.fetch(server.url("/feed.xml"))

    assert response.body == b"<rss>" + b"a" * 10_000 + b"</rss>"
    assert response.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_body_is_decompressed_in_both_real_world_flavours(
    server: LocalServer, fetcher: GuardedFetcher, wbits: int
) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    payload = compressor.compress(b"<html>deflated</html>") + compressor.flush()
    server.route("/page", body=payload, headers={"Content-Encoding": "deflate"})

    assert fetcher.fetch(server.url("/page")).body == b"<html>deflated</html>"


def test_unsupported_content_encoding_is_a_fetch_error(server: LocalServer, fetcher: GuardedFetcher) -> None:
    server.route("/page", body=b"\x00\x01", headers={"Content-Encoding": "br"})

    with pytest.raises(FetchError, match="unsupported Content-Encoding"):
        fetcher.fetch(server.url("/page"))


def test_corrupt_gzip_body_is_a_fetch_error(server: LocalServer, fetcher: GuardedFetcher) -> None:
    server.route("/page", body=b"this is not gzip", headers={"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="corrupt compressed body"):
        fetcher.fetch(server.url("/page"))


def test_body_exactly_at_the_cap_is_accepted(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.route("/big", body=b"x" * MiB, chunked=True)

    response = make_fetcher(max_bytes=MiB).fetch(server.url("/big"))

    assert len(response.body) == MiB


def test_body_over_the_cap_without_content_length_is_cut_off(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.route("/big", body=b"x" * (MiB + 1), chunked=True)

    with pytest.raises(ResponseTooLargeError, match="exceeds the 1048576-byte limit"):
        make_fetcher(max_bytes=MiB).fetch(server.url("/big"))


def test_huge_content_length_is_rejected_before_the_body_is_read(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.route("/huge", body=b"tiny", headers={"Content-Length": "99999999999"})

    with pytest.raises(ResponseTooLargeError, match="Content-Length 99999999999"):
        make_fetcher(max_bytes=MiB).fetch(server.url("/huge"))


def test_gzip_bomb_is_refused_before_it_inflates(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    bomb = gzip_of_zeros(50 * MiB)  # about 50 KiB on the wire
    server.route("/bomb", body=bomb, headers={"Content-Encoding": "gzip"})
    fetcher = make_fetcher(max_bytes=MiB)

    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError):
            fetcher.fetch(server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Inflating even one 64 KiB read of this bomb would allocate about 50 MiB at once.
    assert peak < 8 * MiB


# --- timeouts -------------------------------------------------------------------------------------


def test_server_that_never_answers_times_out_by_the_deadline(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.route("/feed.xml", hang=True)

    with pytest.raises(FetchTimeoutError, match=re.escape("timed out fetching http://127.0.0.1")):
        make_fetcher(timeout=1.5).fetch(server.url("/feed.xml"))


def test_server_that_trickles_its_body_times_out_by_the_deadline(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    # Each byte arrives well within any per-read timeout; only a total deadline stops this.
    server.route("/feed.xml", body=b"x" * 1000, trickle=0.05)

    with pytest.raises(FetchTimeoutError):
        make_fetcher(timeout=1.5).fetch(server.url("/feed.xml"))


# --- redirects ------------------------------------------------------------------------------------


def test_redirects_are_followed_and_the_final_url_reported(
    server: LocalServer, fetcher: GuardedFetcher
) -> None:
    server.redirect("/old", "/moved", status=301)
    server.redirect("/moved", server.url("/feed.xml"), status=308)
    server.route("/feed.xml", body=b"<rss/>")

    response = fetcher.fetch(server.url("/old"))

    assert (response.status, response.body) == (200, b"<rss/>")
    assert response.url == server.url("/feed.xml")
    assert [request.path for request in server.requests] == ["/old", "/moved", "/feed.xml"]


def test_redirect_loop_stops_at_the_limit(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.redirect("/loop", "/loop")

    with pytest.raises(TooManyRedirectsError, match="too many redirects"):
        make_fetcher(max_redirects=3).fetch(server.url("/loop"))

    assert len(server.requests) == 4  # the first request and three redirects followed


def test_redirect_without_location_is_returned_as_is(server: LocalServer, fetcher: GuardedFetcher) -> None:
    server.route("/odd", status=302, body=b"no location")

    assert fetcher.fetch(server.url("/odd")).status == 302


def test_redirect_to_a_non_public_address_is_refused(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.redirect("/feed.xml", f"http://127.0.0.2:{server.port}/admin")
    fetcher = make_fetcher(allow_private_networks=False, address_allowed=only_loopback_127_0_0_1)

    with pytest.raises(BlockedAddressError, match=re.escape("redirected to http://127.0.0.2")):
        fetcher.fetch(server.url("/feed.xml"))

    assert [request.path for request in server.requests] == ["/feed.xml"]


def test_redirect_to_a_name_resolving_to_a_private_address_is_refused(
    server: LocalServer,
    make_fetcher: Callable[..., GuardedFetcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The target is a name, not a literal, so only the connect-time check can refuse it.
    real_getaddrinfo = socket.getaddrinfo

    def internal_dns(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "intranet.example.test":
            host = "10.0.0.5"
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", internal_dns)
    server.redirect("/feed.xml", "http://intranet.example.test/admin")
    fetcher = make_fetcher(allow_private_networks=False, address_allowed=only_loopback_127_0_0_1)

    refusal = "intranet.example.test resolves to non-public address 10.0.0.5"
    with pytest.raises(BlockedAddressError, match=re.escape(refusal)):
        fetcher.fetch(server.url("/feed.xml"))


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.org/feed.xml"])
def test_redirect_to_a_non_http_scheme_is_refused(
    server: LocalServer, fetcher: GuardedFetcher, target: str
) -> None:
    server.redirect("/feed.xml", target)

    with pytest.raises(BlockedAddressError, match="only http and https"):
        fetcher.fetch(server.url("/feed.xml"))


def test_credentials_are_not_forwarded_to_another_origin(
    server: LocalServer, fetcher: GuardedFetcher
) -> None:
    with LocalServer() as other:
        other.route("/feed.xml", body=b"<rss/>")
        server.redirect("/feed.xml", other.url("/feed.xml"))

        fetcher.fetch(
            server.url("/feed.xml"),
            headers={"Authorization": "Bearer secret", "If-None-Match": '"v1"'},
        )

        assert server.requests[-1].headers["authorization"] == "Bearer secret"
        forwarded = other.requests[-1].headers
        assert "authorization" not in forwarded
        assert forwarded["if-none-match"] == '"v1"'


# --- address and scheme policy --------------------------------------------------------------------


def test_loopback_server_is_refused_by_default_without_any_request(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.route("/", body=b"secret")

    with pytest.raises(BlockedAddressError, match=re.escape("127.0.0.1 is not a public address")):
        make_fetcher(allow_private_networks=False).fetch(server.url("/"))

    assert server.requests == []


def test_name_resolving_to_loopback_is_refused_at_connect_time(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    server.route("/", body=b"secret")

    with pytest.raises(BlockedAddressError, match="localhost resolves to non-public address"):
        make_fetcher(allow_private_networks=False).fetch(f"http://localhost:{server.port}/")

    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # integer 127.0.0.1
        "http://0177.0.0.1/",  # octal
        "http://0x7f.1/",  # hex, short form
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # CGNAT: is_private is False, is_global too
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://0.0.0.0/",
        "http://224.0.0.1/",  # multicast
    ],
)
def test_non_public_ip_literals_are_refused_in_every_spelling(
    make_fetcher: Callable[..., GuardedFetcher], url: str
) -> None:
    with pytest.raises(BlockedAddressError, match="is not a public address"):
        make_fetcher(allow_private_networks=False).fetch(url)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/feed.xml", "gopher://example.org/", "feed://x/"],
)
def test_non_http_schemes_are_refused(make_fetcher: Callable[..., GuardedFetcher], url: str) -> None:
    # Even a fetcher allowing private networks never reads files or speaks FTP.
    with pytest.raises(BlockedAddressError, match="only http and https"):
        make_fetcher(allow_private_networks=True).fetch(url)


def test_address_is_resolved_once_and_the_checked_address_is_dialled(
    server: LocalServer,
    make_fetcher: Callable[..., GuardedFetcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A rebinding DNS server answers an allowed address first and a blocked one afterwards.
    # Nothing listens on 127.0.0.2, so a second lookup would make this fetch fail.
    server.route("/feed.xml", body=b"<rss/>")
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])
    lookups: list[str] = []

    def rebinding_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "feeds.rebind.test":
            lookups.append(host)
            host = next(answers)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    fetcher = make_fetcher(allow_private_networks=False, address_allowed=only_loopback_127_0_0_1)

    response = fetcher.fetch(f"http://feeds.rebind.test:{server.port}/feed.xml")

    assert response.body == b"<rss/>"
    assert lookups == ["feeds.rebind.test"]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1", True),
        ("127.0.0.1", False),
        ("100.64.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::5db8:d70e", True),
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("ff02::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
    ],
)
def test_public_address_policy(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


# --- transport failures ---------------------------------------------------------------------------


def test_connection_refused_is_a_fetch_error(fetcher: GuardedFetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now.

    with pytest.raises(FetchError, match=re.escape(f"could not fetch http://127.0.0.1:{port}/")):
        fetcher.fetch(f"http://127.0.0.1:{port}/")


def test_unknown_host_is_a_fetch_error(fetcher: GuardedFetcher) -> None:
    with pytest.raises(FetchError, match=re.escape("DNS lookup of no-such-host.invalid failed")):
        fetcher.fetch("http://no-such-host.invalid/feed.xml")


def test_tls_failure_is_a_fetch_error(server: LocalServer, fetcher: GuardedFetcher) -> None:
    # The local server speaks plain HTTP, so the TLS handshake cannot succeed.
    expected = f"could not fetch https://127.0.0.1:{server.port}/"
    with pytest.raises(FetchError, match=re.escape(expected)):
        fetcher.fetch(f"https://127.0.0.1:{server.port}/")


def self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A throwaway certificate for `name` (DNS name or IP), made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI")
    cert, key = directory / "cert.pem", directory / "key.pem"
    kind = "IP" if name[0].isdigit() else "DNS"
    key_options = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    names = ["-subj", f"/CN={name}", "-addext", f"subjectAltName={kind}:{name}"]
    command = ["openssl", "req", "-x509", "-days", "1", *key_options, *names]
    command += ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


class OneShotTlsServer:
    """Accepts one TLS connection on 127.0.0.1 and answers ``200 ok``; records the SNI name."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.server_names: list[str | None] = []
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._context.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(10)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError), self._listener:
            connection, _ = self._listener.accept()
            with connection, self._context.wrap_socket(connection, server_side=True) as tls:
                tls.settimeout(10)
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def join(self) -> None:
        self._thread.join(timeout=10)


def test_untrusted_certificate_is_refused(tmp_path: Path, fetcher: GuardedFetcher) -> None:
    # TLS verification stays on even when private networks are allowed.
    tls = OneShotTlsServer(*self_signed_certificate(tmp_path, "127.0.0.1"))

    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        fetcher.fetch(f"https://127.0.0.1:{tls.port}/feed.xml")
    tls.join()


def test_tls_is_verified_against_the_host_name_although_the_checked_ip_is_dialled(
    tmp_path: Path,
    make_fetcher: Callable[..., GuardedFetcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cert, key = self_signed_certificate(tmp_path, "localhost")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust our certificate, as a corporate CA
    tls = OneShotTlsServer(cert, key)

    response = make_fetcher().fetch(f"https://localhost:{tls.port}/feed.xml")
    tls.join()

    assert (response.status, response.body) == (200, b"ok")
    assert tls.server_names == ["localhost"]


def test_errors_are_one_line_and_never_show_a_password(
    make_fetcher: Callable[..., GuardedFetcher],
) -> None:
    with pytest.raises(BlockedAddressError) as caught:
        make_fetcher(allow_private_networks=False).fetch("http://reader:hunter2@10.0.0.5/feed")

    message = str(caught.value)
    assert "\n" not in message
    assert "hunter2" not in message
    assert "http://reader:***@10.0.0.5/feed" in message
    assert caught.value.url == "http://reader:hunter2@10.0.0.5/feed"


def test_redact_url_leaves_urls_without_password_alone() -> None:
    assert redact_url("https://example.org/feed?x=1") == "https://example.org/feed?x=1"
    assert redact_url("https://u:p@[::1]:8443/f") == "https://u:***@[::1]:8443/f"


def test_closed_fetcher_refuses_to_fetch(server: LocalServer) -> None:
    with GuardedFetcher(FetchOptions(allow_private_networks=True)) as fetcher:
        pass

    with pytest.raises(FetchError, match="closed"):
        fetcher.fetch(server.url("/"))


# --- per-host politeness --------------------------------------------------------------------------


class ConcurrencyProbe:
    """A slow handler that records how many requests it served at the same time."""

    def __init__(self, service_time: float) -> None:
        self.service_time = service_time
        self.active = 0
        self.peak = 0
        self.served = 0
        self._lock = threading.Lock()

    def __call__(self, request: RequestInfo) -> tuple[int, Mapping[str, str], bytes]:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(self.service_time)
        with self._lock:
            self.active -= 1
            self.served += 1
        return 200, {}, request.path.encode()


def fetch_concurrently(fetcher: GuardedFetcher, urls: list[str]) -> list[bytes]:
    barrier = threading.Barrier(len(urls))
    bodies: list[bytes] = [b""] * len(urls)

    def work(index: int) -> None:
        barrier.wait()
        bodies[index] = fetcher.fetch(urls[index]).body

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return bodies


def test_per_host_delay_keeps_requests_to_one_host_from_overlapping(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    probe = ConcurrencyProbe(service_time=0.2)
    server.handler("/feed", probe)
    fetcher = make_fetcher(per_host_delay=0.6)

    bodies = fetch_concurrently(fetcher, [server.url(f"/feed?n={n}") for n in range(3)])

    assert sorted(bodies) == [b"/feed?n=0", b"/feed?n=1", b"/feed?n=2"]
    assert probe.served == 3
    assert probe.peak == 1


def test_without_a_delay_the_same_fetches_do_overlap(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    # Control for the test above: the probe does detect concurrent requests.
    probe = ConcurrencyProbe(service_time=0.5)
    server.handler("/feed", probe)

    fetch_concurrently(make_fetcher(), [server.url(f"/feed?n={n}") for n in range(3)])

    assert probe.peak > 1


def test_per_host_delay_does_not_hold_back_other_hosts(
    server: LocalServer, make_fetcher: Callable[..., GuardedFetcher]
) -> None:
    # 127.0.0.1 and localhost are different host names, so neither waits for the other.
    probe = ConcurrencyProbe(service_time=0.5)
    server.handler("/feed", probe)
    fetcher = make_fetcher(per_host_delay=30)

    fetch_concurrently(fetcher, [server.url("/feed"), f"http://localhost:{server.port}/feed"])

    assert probe.peak == 2


# --- the local server itself ----------------------------------------------------------------------


def test_local_server_shuts_down_promptly_with_a_hanging_connection(
    make_fetcher: Callable[..., GuardedFetcher],
) -> None:
    local = LocalServer()
    local.route("/hang", hang=True)
    fetcher = make_fetcher(timeout=30)
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            fetcher.fetch(local.url("/hang"))
        except FetchError as error:
            errors.append(error)

    client = threading.Thread(target=fetch, daemon=True)
    client.start()
    while not local.requests:
        time.sleep(0.01)

    started = time.monotonic()
    local.close()
    client.join(timeout=10)

    assert time.monotonic() - started < 5
    assert not client.is_alive()
    assert len(errors) == 1  # the client saw the connection drop, not a response
