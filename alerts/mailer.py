"""Send email over SMTP: STARTTLS, implicit TLS or plain (local relays and tests).

Why a module of its own: the digest must tell "nobody got it" (the server is down, the
password is wrong: one clear line, every recipient re-sendable) apart from "this one
address was refused" (that recipient failed, the others were delivered). So connecting and
logging in raise `MailerError`, while each message gets its own `Delivery` result.

The password is a SecretStr until the moment it is handed to `smtplib.login`, and is
never put in a message or log line. It is also never sent unencrypted to another machine:
with security "none", logging in is only allowed to a loopback server.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses

from pydantic import SecretStr

from pipeline.errors import CompactwatchError
from pipeline.settings import Settings


class MailerError(CompactwatchError):
    """The SMTP server could not be reached or refused our login: nothing was sent."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    user: str | None = None
    password: SecretStr | None = None
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        if not settings.smtp_host:
            raise MailerError("SMTP_HOST is not set: cannot send the digest (see `compactwatch settings`)")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user or None,
            password=settings.smtp_password,
        )

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Delivery:
    """What happened to one message: delivered, or the server's reason for refusing it."""

    recipient: str
    ok: bool
    error: str | None = None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{error.smtp_code} {' '.join(text.split())}"[:200]


def _network_reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or error})"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply(error)
    return " ".join(str(error).split())[:200] or type(error).__name__


@contextmanager
def smtp_session(config: SmtpConfig) -> Iterator[smtplib.SMTP]:
    """A connected (and, with a user, logged-in) SMTP client; MailerError otherwise."""
    if config.security not in ("starttls", "tls", "none"):
        raise MailerError(f"SMTP security must be starttls, tls or none, not {config.security!r}")
    if config.user and config.security == "none" and not _is_loopback(config.host):
        raise MailerError(
            f"refusing to send the SMTP password unencrypted to {config.where}; "
            "set COMPACTWATCH_SMTP_SECURITY to starttls or tls"
        )
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if config.security == "tls":
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        client.ehlo()
        if config.security == "starttls":
            if not client.has_extn("starttls"):
                raise MailerError(
                    f"SMTP server {config.where} does not offer STARTTLS; "
                    "use COMPACTWATCH_SMTP_SECURITY=tls or none"
                )
            client.starttls(context=context)
            client.ehlo()
        if config.user:
            password = config.password.get_secret_value() if config.password else ""
            try:
                client.login(config.user, password)
            except smtplib.SMTPAuthenticationError as error:
                raise MailerError(
                    f"SMTP login to {config.where} as {config.user} failed: {_reply(error)}"
                ) from None
            except smtplib.SMTPNotSupportedError:
                raise MailerError(f"SMTP server {config.where} does not offer login (AUTH)") from None
    except MailerError:
        _close(client)
        raise
    except (OSError, smtplib.SMTPException) as error:
        _close(client)
        raise MailerError(f"cannot reach SMTP server {config.where}: {_network_reason(error)}") from None
    try:
        yield client
    finally:
        _close(client)


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def send_messages(config: SmtpConfig, messages: Sequence[EmailMessage]) -> list[Delivery]:
    """Send each message over one connection; one Delivery per message, in order.

    Raises MailerError only when nothing could be sent (cannot connect or log in). If the
    connection drops half-way, the messages not yet sent are reported as failed with that
    reason, so delivered ones are still recorded as delivered.
    """
    results: list[Delivery] = []
    with smtp_session(config) as client:
        for index, message in enumerate(messages):
            recipient = ", ".join(addr for _, addr in getaddresses(message.get_all("To", [])))
            try:
                refused = client.send_message(message)
            except smtplib.SMTPRecipientsRefused as error:
                reasons = [_reply_tuple(code, text) for code, text in error.recipients.values()]
                results.append(Delivery(recipient, False, f"recipient refused: {'; '.join(reasons)}"))
                continue
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
                results.append(Delivery(recipient, False, f"message refused: {_reply(error)}"))
                _reset(client)
                continue
            except (OSError, smtplib.SMTPException) as error:
                reason = f"SMTP server {config.where}: {_network_reason(error)}"
                results.append(Delivery(recipient, False, reason))
                results.extend(
                    Delivery(", ".join(a for _, a in getaddresses(m.get_all("To", []))), False, reason)
                    for m in messages[index + 1 :]
                )
                break
            if refused:
                reasons = [_reply_tuple(code, text) for code, text in refused.values()]
                results.append(Delivery(recipient, False, f"recipient refused: {'; '.join(reasons)}"))
            else:
                results.append(Delivery(recipient, True))
    return results


def _reply_tuple(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(text.split())}"[:200]


def _reset(client: smtplib.SMTP) -> None:
    with suppress(OSError, smtplib.SMTPException):
        client.rset()
