"""Server-side records of archive sessions: the SQL behind login, logout and revocation.

A signed cookie alone cannot be taken back: whoever copies it keeps access until it
expires. So the cookie carries only a random session id; the row (keyed by the id's
SHA-256, so the table itself holds nothing a browser could present) says who it is, which
credential it was opened with, and whether it still stands.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from pipeline.store.store import Store
from pipeline.store.tables import ArchiveSessionRow


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(store: Store, user: str, via: str, credential: str, max_age: timedelta) -> str:
    """Record a new session and return its id (for the cookie); expired rows are swept."""
    session_id = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.writing() as session:
        session.execute(delete(ArchiveSessionRow).where(ArchiveSessionRow.expires_at < now))
        session.add(
            ArchiveSessionRow(
                id=_key(session_id),
                user_name=user[:200],
                via=via[:20],
                credential=credential[:64],
                created_at=now,
                expires_at=now + max_age,
            )
        )
    return session_id


def session_stands(store: Store, session_id: str, user: str, credential: str) -> bool:
    """True while the session exists, is not revoked or expired, belongs to `user` and was
    opened with the credential that is configured now (a changed password ends it)."""
    if not session_id:
        return False
    with store.reading() as session:
        row = session.get(ArchiveSessionRow, _key(session_id))
        if row is None or row.revoked_at is not None or row.user_name != user:
            return False
        return row.expires_at > datetime.now(UTC) and secrets.compare_digest(row.credential, credential)


def revoke_session(store: Store, session_id: str) -> bool:
    """End one session (logout). True when it was standing."""
    with store.writing() as session:
        result = session.execute(
            update(ArchiveSessionRow)
            .where(ArchiveSessionRow.id == _key(session_id), ArchiveSessionRow.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_sessions(store: Store, user: str | None = None) -> int:
    """End every standing session, or every session of `user`; returns how many."""
    query = update(ArchiveSessionRow).where(ArchiveSessionRow.revoked_at.is_(None))
    if user is not None:
        query = query.where(ArchiveSessionRow.user_name == user)
    with store.writing() as session:
        result = session.execute(query.values(revoked_at=datetime.now(UTC)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def standing_sessions(store: Store) -> list[dict[str, object]]:
    """Who is logged in: user, how, since when, until when (for `sessions list`)."""
    now = datetime.now(UTC)
    with store.reading() as session:
        rows = session.execute(
            select(ArchiveSessionRow)
            .where(ArchiveSessionRow.revoked_at.is_(None), ArchiveSessionRow.expires_at > now)
            .order_by(ArchiveSessionRow.created_at)
        ).scalars()
        return [
            {"user": r.user_name, "via": r.via, "since": r.created_at, "expires": r.expires_at} for r in rows
        ]
