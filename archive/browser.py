"""How compactwatch starts Debian's Chromium headless (screenshots, browser tests).

On this kind of machine Chromium's background services try to reach Google and are
refused by the closed network, so they are switched off; the sandbox needs unprivileged
user namespaces, which root in a container does not have.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
