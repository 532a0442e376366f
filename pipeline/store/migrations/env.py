"""Alembic environment: migrations run on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from pipeline.store.schema_filter import include_name as _include_name
from pipeline.store.tables import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("compactwatch migrations run through `compactwatch db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
