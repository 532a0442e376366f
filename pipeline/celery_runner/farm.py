"""A loopback feed farm: N feeds, each on its own 127.0.0.x host, pages served with latency.

Used by `make bench-scale` and the Celery tests. Every feed gets a host of its own (so
per-host politeness never serialises two feeds) and every article page answers after
`latency` seconds, the way a distant news site does; that wait is what more worker
processes overlap. Content comes from the bench generator (`pipeline.demo_data.bench`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType

from pipeline.demo_data.bench import bench_feeds, bench_site
from pipeline.localserver import LocalServer

_PLACEHOLDER = "http://farm.invalid"


@dataclass
class FeedFarm:
    """Serve `feeds` × `articles` pages; `with FeedFarm(4, 10) as farm: farm.feeds_yaml()`."""

    feeds: int
    articles: int
    latency: float = 0.0
    first_host: int = 20
    servers: list[LocalServer] = field(default_factory=list)
    page_urls: list[str] = field(default_factory=list)
    _pages: dict[str, tuple[LocalServer, str, str, bytes]] = field(default_factory=dict)

    def start(self) -> FeedFarm:
        if self.feeds > 200:
            raise ValueError("a farm has at most 200 hosts")
        site = bench_site(_PLACEHOLDER, self.feeds, self.articles)
        self.servers = [LocalServer(f"127.0.0.{self.first_host + i}") for i in range(self.feeds)]
        for path, (content_type, body) in site.items():
            index = int(path.split("/")[2])
            server = self.servers[index]
            data = body.replace(_PLACEHOLDER.encode(), server.base_url.encode())
            is_page = path.endswith(".html")
            server.route(path, body=data, content_type=content_type, delay=self.latency if is_page else 0.0)
            if is_page:
                self.page_urls.append(server.base_url + path)
                self._pages[server.base_url + path] = (server, path, content_type, data)
        return self

    def feed_entries(self) -> list[dict[str, object]]:
        """feeds.yaml entries: one per host, polled every five minutes."""
        out = []
        for i, server in enumerate(self.servers):
            [entry] = bench_feeds(server.base_url, i + 1)[i:]
            out.append({**entry, "name": f"farm {i:03d}", "interval": 5})
        return out

    def page_requests(self, url: str | None = None) -> int:
        """Article page requests received so far (of one page, or of all; twice counts twice)."""
        if url is not None:
            server, path, _, _ = self._pages[url]
            return sum(1 for r in server.requests if r.path.split("?")[0] == path)
        return sum(1 for s in self.servers for r in s.requests if r.path.endswith(".html"))

    def slow_down(self, url: str, seconds: float) -> None:
        """Make one article page answer only after `seconds` (a task is in flight meanwhile)."""
        server, path, content_type, data = self._pages[url]
        server.route(path, body=data, content_type=content_type, delay=seconds)

    def close(self) -> None:
        for server in self.servers:
            server.close()

    def __enter__(self) -> FeedFarm:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()
