"""The digest as an email: multipart/alternative (text, then HTML with the chart inline by
Content-ID). Headers carry only numbers and settings, never feed text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from alerts.digest_model import Digest, unsubscribe_uris
from alerts.digest_render import digest_subject, render_chart, render_html, render_text
from pipeline.errors import ConfigError


# =========================================================================== message
def build_message(
    digest: Digest,
    *,
    sender: str,
    recipient: str,
    unsubscribe: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The email for one recipient.

    Structure: multipart/alternative → text/plain, multipart/related → (text/html,
    image/png referenced as cid:). Subject, From, To and List-Unsubscribe come from numbers
    and settings only; EmailMessage's default policy would refuse CR/LF in any of them.
    """
    sender_addr = address(sender, what="COMPACTWATCH_DIGEST_FROM")
    recipient_addr = address(recipient, what="recipient")
    domain = sender_addr.domain or "compactwatch.localhost"
    message = EmailMessage()
    message["Subject"] = digest_subject(digest)
    message["From"] = sender_addr
    message["To"] = recipient_addr
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid("digest", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message["List-Id"] = f"compactwatch weekly digest <digest.{domain}>"
    uris = unsubscribe_uris(unsubscribe)
    if uris:
        message["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in uris)
        if any(u.lower().startswith("https:") for u in uris):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message.set_content(render_text(digest, unsubscribe=unsubscribe))
    if digest.is_empty:
        message.add_alternative(render_html(digest, unsubscribe=unsubscribe), subtype="html")
        return message
    cid = make_msgid("chart", domain=domain)
    message.add_alternative(
        render_html(digest, chart_src=f"cid:{cid[1:-1]}", unsubscribe=unsubscribe), subtype="html"
    )
    html_part = message.get_payload()[1]  # type: ignore[index]
    html_part.add_related(
        render_chart(digest), maintype="image", subtype="png", cid=cid, filename="frames-by-day.png"
    )
    return message


def address(value: str, *, what: str) -> Address:
    """Parse one address strictly: one mailbox, no CR/LF, no list (header injection guard)."""
    if any(c in value for c in "\r\n\t,;") or not value.strip():
        raise ConfigError(f"{what}: {value[:80]!r} is not a single email address")
    name, addr = parseaddr(value.strip())
    if addr.count("@") != 1 or " " in addr or addr.startswith("@") or addr.endswith("@"):
        raise ConfigError(f"{what}: {value[:80]!r} is not a valid email address")
    user, host = addr.split("@")
    return Address(display_name=name, username=user, domain=host)
