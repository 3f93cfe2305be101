"""Alembic environment: always driven with a connection handed over by ordergate.store.db.migrate."""

from alembic import context

from ordergate.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI always passes one
    raise RuntimeError("run migrations through `ordergate migrate` (ordergate.store.db.migrate)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
