"""The guarded HTTP fetcher: the only code in compactwatch that touches the network.

Feed URLs and article links come from outside (feeds.yaml, OPML files, feed entries, redirects),
so every request is treated as hostile input. The fetcher therefore:

* fetches only ``http``/``https`` URLs and follows redirects itself, re-checking every hop;
* refuses any address that is not globally routable (loopback, RFC 1918, CGNAT 100.64/10,
  link-local such as the cloud metadata service, multicast, reserved), unless private networks
  are explicitly allowed. The check runs inside a custom httpcore network backend on the
  address that is *actually connected* (one DNS lookup, then connect to that exact IP), so DNS
  rebinding and integer/octal/IPv4-mapped spellings of 127.0.0.1 cannot slip through;
* enforces one wall-clock deadline per fetch (httpx timeouts apply per socket operation, so a
  server trickling one byte a second would otherwise never time out);
* caps the body on *decompressed* bytes and inflates incrementally, so a gzip bomb is
  abandoned after ``max_bytes`` instead of exploding in memory;
* spaces requests to one host by ``per_host_delay`` (politeness), across worker threads, and
  pauses only that host when it answers 429 (or 503 with Retry-After). `HostPacing` is the table;
  schedulers read it (`ready_at`) to start work on hosts that are ready instead of sleeping.

HTTP statuses (304, 404, 429, 5xx, ...) are results, returned as `HttpResponse`; refusals and
transport failures raise the `FetchError` family with a one-line message naming the URL.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from pipeline.errors import (
    BlockedAddressError,
    FetchError,
    FetchTimeoutError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from pipeline.records import HttpResponse
from pipeline.settings import DEFAULT_USER_AGENT

__all__ = [
    "ALLOWED_SCHEMES",
    "AddressPredicate",
    "FetchOptions",
    "GuardedFetcher",
    "HostPacing",
    "IPAddress",
    "host_key",
    "is_public_address",
    "redact_url",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPredicate = Callable[[IPAddress], bool]

ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT_ENCODING = "gzip, deflate"  # only what `_Decoder` can inflate under a byte cap
# Headers that must not follow a redirect to another origin.
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
_LEGACY_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")
_MAX_PACED_HOSTS = 4096  # prune the politeness table beyond this many hosts


@dataclass(frozen=True)
class FetchOptions:
    """Limits of one fetcher; defaults follow Miniflux (20 s total, 10 s connect, 15 MiB)."""

    timeout: float = 20.0  # wall-clock deadline for a whole fetch, redirects included, seconds
    connect_timeout: float = 10.0  # DNS + TCP + TLS for one connection, seconds
    max_bytes: int = 15 * 1024 * 1024  # cap on the DECOMPRESSED body
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    allow_private_networks: bool = False  # tests and the local demo only
    per_host_delay: float = 0.0  # minimum seconds between two request starts to one host
    max_host_pause: float = 600.0  # longest pause of one host after a 429/503 Retry-After, seconds

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise ValueError("fetch timeouts must be positive")
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if self.max_redirects < 0 or self.per_host_delay < 0 or self.max_host_pause < 0:
            raise ValueError("max_redirects, per_host_delay and max_host_pause cannot be negative")


def is_public_address(address: IPAddress) -> bool:
    """True when `address` is globally routable, i.e. safe to fetch from.

    Addresses that embed an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, NAT64
    ``64:ff9b::a.b.c.d``, 6to4, Teredo) are judged by the embedded address, because that is
    where the packets end up. `is_global` alone is not enough: Python 3.11 reports multicast
    (``224.0.0.1``, ``ff02::1``) and some reserved ranges as global.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded: list[ipaddress.IPv4Address] = []
        if address.ipv4_mapped is not None:
            embedded.append(address.ipv4_mapped)
        elif address in _NAT64_PREFIX:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        elif address.sixtofour is not None:
            embedded.append(address.sixtofour)
        elif address.teredo is not None:
            embedded.extend(address.teredo)
        if embedded:
            return all(is_public_address(inner) for inner in embedded)
    return address.is_global and not address.is_multicast and not address.is_reserved


def redact_url(url: str) -> str:
    """`url` with any password replaced by ``***``, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:***@{host}"
        if parts.port is not None:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unparseable URL>"


class _AddressPolicy:
    """Decides whether an address may be connected to; shared by the URL check and backend."""

    def __init__(self, allow_private_networks: bool, extra: AddressPredicate | None) -> None:
        self._allow_private = allow_private_networks
        self._extra = extra

    def allows(self, address: IPAddress) -> bool:
        if self._allow_private or is_public_address(address):
            return True
        return self._extra is not None and bool(self._extra(address))


class _Deadlines(threading.local):
    """The wall-clock deadline of the fetch running in the current thread (None: no fetch).

    The fetcher is synchronous, so all socket I/O of a fetch happens in the calling thread;
    a thread-local lets pooled connections, created by one fetch and reused by another,
    always honour the deadline of the fetch using them now.
    """

    current: float | None = None

    def clamp(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """`timeout` shortened to the time left before the deadline; raise `expired` if none."""
        if self.current is None:
            return timeout
        remaining = self.current - time.monotonic()
        if remaining <= 0:
            raise expired("wall-clock deadline passed")
        return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """Wraps a socket stream so that every read, write and TLS handshake ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadlines: _Deadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadlines.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadlines.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # server_hostname is the URL's host name, so SNI and certificate checks use the name
        # even though the socket was connected to a literal IP.
        secured = self._inner.start_tls(
            ssl_context, server_hostname, self._deadlines.clamp(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(secured, self._deadlines)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore backend that resolves once, refuses non-public addresses, then dials that IP.

    Checking here rather than on the URL is what makes the guard sound: it sees the address
    the socket really connects to, for the first request and every redirect hop alike, and
    there is no second DNS lookup a rebinding server could answer differently.
    """

    def __init__(self, policy: _AddressPolicy, deadlines: _Deadlines) -> None:
        self._policy = policy
        self.deadlines = deadlines
        # getaddrinfo cannot be interrupted; running it on a small pool lets the fetch give up
        # at its deadline even when the system resolver hangs.
        self._resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-dns")

    def close(self) -> None:
        self._resolver.shutdown(wait=False, cancel_futures=True)

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[tuple[Any, ...]]:
        future = self._resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            return future.result(timeout=timeout)
        except FutureTimeoutError:
            future.cancel()
            raise httpcore.ConnectTimeout(f"DNS lookup of {host} timed out") from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise httpcore.ConnectError(f"DNS lookup of {host} failed: {reason}") from None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        infos = self._resolve(host, port, self.deadlines.clamp(timeout, httpcore.ConnectTimeout))
        candidates: list[tuple[int, tuple[Any, ...]]] = []
        for family, _type, _proto, _name, sockaddr in infos:
            address = ipaddress.ip_address(sockaddr[0])
            if not self._policy.allows(address):
                # Refuse even if another record is public: a name that also points inside the
                # network is hostile, and the message should say which address was refused.
                raise BlockedAddressError(f"{host} resolves to non-public address {address}")
            candidates.append((family, sockaddr))
        if not candidates:
            raise httpcore.ConnectError(f"DNS lookup of {host} returned no address")
        last_error: httpcore.ConnectError | None = None
        for _family, sockaddr in candidates:
            budget = self.deadlines.clamp(timeout, httpcore.ConnectTimeout)
            try:
                # A literal IP needs no lookup, so the parent connects exactly where we checked.
                stream = super().connect_tcp(sockaddr[0], port, budget, local_address, socket_options)
            except httpcore.ConnectError as error:
                last_error = error
                continue
            return _DeadlineStream(stream, self.deadlines)
        reason = _one_line(str(last_error)) if last_error else "no address"
        raise httpcore.ConnectError(f"could not connect to {host}:{port}: {reason}")


class _GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose connection pool dials through `_GuardedBackend`.

    httpx.HTTPTransport has no parameter for a network backend. Its request handling needs
    nothing but ``self._pool``, so this subclass builds that pool itself (the parent's
    __init__ is skipped on purpose: it would load the CA bundle for a pool thrown away).
    No proxy is ever configured: a proxy would connect on our behalf, past the address check.
    """

    def __init__(self, backend: _GuardedBackend) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=True),  # TLS verification stays on
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend,
        )


class _Decoder:
    """Inflates a Content-Encoding incrementally, never producing more than asked for.

    httpx's own decoders call ``decompress(data)`` without a size limit, so one 64 KiB chunk
    of a gzip bomb becomes 64 MiB in memory before any cap could be checked. Passing
    ``max_length`` keeps each step bounded by the bytes still allowed.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib: Any = None  # zlib decompress object, created lazily for deflate sniffing
        self._pending = b""
        if encoding == "gzip":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def decode(self, data: bytes, limit: int) -> bytes:
        """Decode `data` into at most `limit` bytes.

        Callers pass the bytes still allowed plus one, so getting `limit` bytes back means the
        cap is exceeded and whatever input is left can be thrown away uninflated.
        """
        if self.encoding == "identity":
            return data[:limit]
        if self._zlib is None:  # deflate: zlib-wrapped (RFC 1950) or, in practice, raw
            self._pending += data
            if len(self._pending) < 2:
                return b""
            cmf, flg = self._pending[0], self._pending[1]
            wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._pending = self._pending, b""
        out = self._zlib.decompress(data, limit)
        # gzip allows several members back to back; each needs a fresh decompressor.
        while self.encoding == "gzip" and self._zlib.eof and self._zlib.unused_data:
            if len(out) >= limit:
                break
            rest = self._zlib.unused_data
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += self._zlib.decompress(rest, limit - len(out))
        return out

    def flush(self) -> bytes:
        """Bytes still buffered at the end of the body (bounded by the 32 KiB window)."""
        if self.encoding == "identity" or self._zlib is None:
            return b""
        return bytes(self._zlib.flush())


def _decoder_for(content_encoding: str) -> _Decoder | None:
    """The decoder for a Content-Encoding header, or None when it is not one we can cap."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return _Decoder("identity")
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip"):
        return _Decoder("gzip")
    if len(codings) == 1 and codings[0] == "deflate":
        return _Decoder("deflate")
    return None


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host string denotes literally, including legacy spellings.

    ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``127.1`` all mean 127.0.0.1 to the C
    resolver (inet_aton). httpx rejects some of them as invalid, but they must be reported
    as what they are: attempts to reach a blocked address.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def host_key(url: str) -> str:
    """The host a URL's politeness is counted against (lower-case, IDNA), or "" if unparseable.

    It is the same key the fetcher paces by, so a scheduler that asks `HostPacing.ready_at`
    about a URL's host gets the answer the fetcher will act on.
    """
    try:
        return httpx.URL(url).host
    except (httpx.InvalidURL, TypeError, ValueError):
        return ""


class HostPacing:
    """The politeness table: when each host may next be contacted.

    Shared by every thread of one fetcher. `reserve` books the next start for a host (one
    `delay` after the previous one); `pause` pushes a host back after it asked us to slow
    down (429, Retry-After), which affects that host only. `ready_at` lets a scheduler pick
    work whose host is ready now, so no worker sleeps on one host while another has work.
    `clock` and `sleep` are injectable so tests can use a fake clock.
    """

    def __init__(
        self,
        delay: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.delay = delay
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._next_start: dict[str, float] = {}

    def ready_at(self, host: str) -> float:
        """Clock time from which `host` may be contacted (in the past when it is ready now)."""
        with self._lock:
            return self._next_start.get(host, float("-inf"))

    def reserve(self, host: str) -> float:
        """Book the earliest start for `host` and return how long the caller must wait."""
        with self._lock:
            now = self.clock()
            start = max(now, self._next_start.get(host, now))
            if self.delay > 0 or start > now:
                self._next_start[host] = start + self.delay
            if len(self._next_start) > _MAX_PACED_HOSTS:
                self._next_start = {h: t for h, t in self._next_start.items() if t > now}
            return start - now

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        """Wait on `condition` (its lock held) while the next host is paced for `seconds`.

        Schedulers wait here rather than on the clock directly, so a fake-clock subclass can
        advance time instead of sleeping. New work or a finished task notifies `condition`.
        """
        condition.wait(min(seconds, 1.0))

    def pause(self, host: str, seconds: float) -> None:
        """Contact `host` again no sooner than `seconds` from now (it asked us to slow down)."""
        with self._lock:
            until = self.clock() + seconds
            self._next_start[host] = max(self._next_start.get(host, until), until)


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date), if any."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class GuardedFetcher:
    """Fetches one URL at a time under the guards described in the module docstring.

    Thread-safe: one instance is shared by the worker threads of a polling cycle, so the
    connection pool and the per-host politeness table are shared too. Close it when done.

    `address_allowed` lets a caller admit specific non-public addresses (tests use it to
    reach one loopback server while still proving that other private addresses are refused);
    the product configures only `FetchOptions.allow_private_networks`.
    """

    def __init__(
        self,
        options: FetchOptions,
        *,
        address_allowed: AddressPredicate | None = None,
        pacing: HostPacing | None = None,
    ) -> None:
        self.options = options
        self.pacing = pacing or HostPacing(options.per_host_delay)
        self._policy = _AddressPolicy(options.allow_private_networks, address_allowed)
        self._backend = _GuardedBackend(self._policy, _Deadlines())
        self._client = httpx.Client(
            transport=_GuardedTransport(self._backend),
            trust_env=False,  # no proxies or netrc from the environment
            follow_redirects=False,  # redirects are followed (and re-checked) by fetch()
            headers={"User-Agent": options.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )
        self._closed = False

    # --- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Close pooled connections; the fetcher cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._client.close()
            self._backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- the one public verb ----------------------------------------------------------------

    def fetch(
        self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float | None = None
    ) -> HttpResponse:
        """GET `url`, following redirects, and return the response whatever its status.

        `timeout` shortens the wall-clock deadline below `FetchOptions.timeout` (a caller
        with a budget passes what is left of it); it never lengthens it.

        `headers` are sent with every hop (e.g. If-None-Match, If-Modified-Since); credentials
        among them are dropped when a redirect leaves the origin. The body is decompressed,
        the headers are the server's own (lower-cased names).

        Raises BlockedAddressError, ResponseTooLargeError, FetchTimeoutError,
        TooManyRedirectsError, or FetchError for any other network failure.
        """
        if self._closed:
            raise FetchError(f"could not fetch {redact_url(url)}: the fetcher is closed", url=url)
        shown = redact_url(url)
        hop_headers = {
            name: value
            for name, value in (headers or {}).items()
            if name.lower() != "accept-encoding"  # only encodings we can decode under a cap
        }
        current = url
        deadline: float | None = None
        started = 0.0
        limit = self.options.timeout if timeout is None else min(self.options.timeout, timeout)
        if limit <= 0:
            raise FetchTimeoutError(f"timed out fetching {shown}: no time left in the budget", url=url)
        deadlines = self._backend.deadlines
        try:
            for hop in range(self.options.max_redirects + 1):
                where = shown if hop == 0 else f"{shown} (redirected to {redact_url(current)})"
                target = self._checked_url(current, where, url)
                deadline = self._wait_for_turn(target.host, deadline, limit, where, url)
                deadlines.current = deadline  # every socket operation of this thread obeys it
                if hop == 0:
                    started = time.monotonic()
                response = self._send(target, hop_headers, deadline, where, url)
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_STATUSES and location:
                        following = urljoin(str(target), location.strip())
                        if _origin(following) != _origin(str(target)):
                            hop_headers = _without_credentials(hop_headers)
                        current = following
                        continue
                    body = self._read_body(response, deadline, where, url)
                    self._note_slow_down(target.host, response)
                    return HttpResponse(
                        url=str(target),
                        status=response.status_code,
                        headers=dict(response.headers.items()),
                        body=body,
                        elapsed=time.monotonic() - started,
                    )
                finally:
                    response.close()
        finally:
            deadlines.current = None
        raise TooManyRedirectsError(
            f"too many redirects fetching {shown} (more than {self.options.max_redirects})",
            url=url,
        )

    # --- steps of a fetch -------------------------------------------------------------------

    def _checked_url(self, url: str, where: str, original: str) -> httpx.URL:
        """Parse `url`, refusing non-http(s) schemes and literal non-public addresses early.

        The literal check only gives a precise message before any I/O; the authoritative
        check is the backend's, on the address actually dialled.
        """
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError as error:
            message = f"could not fetch {where}: invalid URL ({_one_line(str(error))})"
            raise FetchError(message, url=original) from None
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            shown_scheme = f"{scheme}://" if scheme else "a URL without a scheme"
            raise BlockedAddressError(
                f"refused {where}: only http and https URLs are fetched, not {shown_scheme}",
                url=original,
            )
        if not host:
            raise FetchError(f"could not fetch {where}: the URL has no host", url=original)
        literal = _ip_literal(host)
        if literal is not None and not self._policy.allows(literal):
            raise BlockedAddressError(f"refused {where}: {literal} is not a public address", url=original)
        try:
            return httpx.URL(url)
        except httpx.InvalidURL as error:
            message = f"could not fetch {where}: invalid URL ({_one_line(str(error))})"
            raise FetchError(message, url=original) from None

    def _wait_for_turn(
        self, host: str, deadline: float | None, limit: float, where: str, original: str
    ) -> float:
        """Wait until this host may be contacted again; return the fetch's deadline.

        Starts are reserved in `HostPacing` and slept outside its lock, so concurrent workers
        queue up one `per_host_delay` apart without blocking fetches to other hosts. A
        scheduler that only starts fetches for ready hosts (pipeline.hostqueue) makes this
        wait zero; it remains for callers without one and for redirects to another host.
        The deadline starts after the first wait: time spent queueing is not the server's.
        """
        wait = self.pacing.reserve(host)
        if deadline is not None and time.monotonic() + wait >= deadline:
            raise FetchTimeoutError(
                f"timed out fetching {where}: deadline of {limit:g} s "
                "passed while waiting for the per-host delay",
                url=original,
            )
        if wait > 0:
            self.pacing.sleep(wait)
        if deadline is None:
            deadline = time.monotonic() + limit
        return deadline

    def _note_slow_down(self, host: str, response: httpx.Response) -> None:
        """A 429 (or a 503 with Retry-After) pauses this host only, for as long as it asked."""
        if response.status_code not in (429, 503):
            return
        asked = _retry_after_seconds(response.headers.get("retry-after"))
        if asked is None:
            if response.status_code != 429:
                return
            asked = max(5.0, 4 * self.options.per_host_delay)  # 429 without a figure
        self.pacing.pause(host, min(asked, self.options.max_host_pause))

    def _send(
        self,
        target: httpx.URL,
        headers: Mapping[str, str],
        deadline: float,
        where: str,
        original: str,
    ) -> httpx.Response:
        """Send one GET and return once the status line and headers are in (body unread)."""
        remaining = max(deadline - time.monotonic(), 0.001)
        timeout = httpx.Timeout(
            remaining, connect=min(self.options.connect_timeout, remaining), pool=remaining
        )
        request = self._client.build_request("GET", target, headers=dict(headers), timeout=timeout)
        with _translated_errors(self.options.timeout, where, original):
            return self._client.send(request, stream=True)

    def _read_body(self, response: httpx.Response, deadline: float, where: str, original: str) -> bytes:
        """Read and decompress the body, aborting as soon as it exceeds `max_bytes`."""
        cap = self.options.max_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLargeError(
                f"refused {where}: Content-Length {int(declared)} exceeds the {cap}-byte limit",
                url=original,
                status=response.status_code,
            )
        encoding = response.headers.get("content-encoding", "")
        decoder = _decoder_for(encoding)
        if decoder is None:
            raise FetchError(
                f"could not fetch {where}: unsupported Content-Encoding {_one_line(encoding)!r}",
                url=original,
                status=response.status_code,
            )

        def too_large() -> ResponseTooLargeError:
            return ResponseTooLargeError(
                f"refused {where}: response body exceeds the {cap}-byte limit",
                url=original,
                status=response.status_code,
            )

        parts: list[bytes] = []
        size = 0
        received = 0
        with _translated_errors(self.options.timeout, where, original):
            for chunk in response.iter_raw():
                # Count wire bytes too: a stream can be endless yet inflate to almost nothing.
                received += len(chunk)
                if received > cap:
                    raise too_large()
                piece = decoder.decode(chunk, cap - size + 1)
                size += len(piece)
                if size > cap:
                    raise too_large()
                parts.append(piece)
                if time.monotonic() >= deadline:
                    raise httpx.ReadTimeout("wall-clock deadline passed")  # a trickle
            tail = decoder.flush()
            size += len(tail)
            if size > cap:
                raise too_large()
            parts.append(tail)
        return b"".join(parts)


@contextmanager
def _translated_errors(timeout: float, where: str, original: str) -> Iterator[None]:
    """Turn httpx/httpcore/zlib failures into one-line FetchErrors naming the URL."""
    try:
        yield
    except BlockedAddressError as error:
        if error.url is not None:
            raise
        # Raised by the backend, which knows the host but not the URL.
        raise BlockedAddressError(f"refused {where}: {error}", url=original) from None
    except FetchError:
        raise
    except httpx.TimeoutException:
        raise FetchTimeoutError(
            f"timed out fetching {where} (deadline {timeout:g} s)", url=original
        ) from None
    except (httpx.DecodingError, zlib.error) as error:
        raise FetchError(
            f"could not fetch {where}: corrupt compressed body ({_one_line(str(error))})",
            url=original,
        ) from None
    except httpx.HTTPError as error:
        reason = _one_line(str(error)) or type(error).__name__
        raise FetchError(f"could not fetch {where}: {reason}", url=original) from None


def _without_credentials(headers: Mapping[str, str]) -> dict[str, str]:
    """`headers` minus those that would leak credentials to another origin."""
    return {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, for deciding whether a redirect changes origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port
