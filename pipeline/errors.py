"""The small exception tree of compactwatch.

    CompactwatchError          base: carries a one-line, user-facing message
    ├── ConfigError            bad settings, feeds.yaml or routing file (file, line, reason)
    ├── FetchError             the guarded fetcher refused or failed a request
    │   ├── BlockedAddressError    private/loopback address, bad scheme
    │   ├── ResponseTooLargeError  decompressed body over the cap
    │   ├── FetchTimeoutError      wall-clock deadline passed
    │   └── TooManyRedirectsError  redirect limit reached
    ├── ModelError             a model file is missing, untrusted or inconsistent
    └── StoreError             the database is unreachable or a migration failed

Expected per-item rejections (a feed that is not a feed, a page that yields no text) are
returned as values with a reason, not raised; exceptions are for what a caller must handle.
"""

from __future__ import annotations


class CompactwatchError(Exception):
    """Base class; `str(error)` is a complete one-line message for users."""


class ConfigError(CompactwatchError):
    pass


class FetchError(CompactwatchError):
    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class BlockedAddressError(FetchError):
    pass


class ResponseTooLargeError(FetchError):
    pass


class FetchTimeoutError(FetchError):
    pass


class TooManyRedirectsError(FetchError):
    pass


class ModelError(CompactwatchError):
    pass


class StoreError(CompactwatchError):
    pass
