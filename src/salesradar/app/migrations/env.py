"""Alembic environment: runs on the engine handed over by :func:`salesradar.app.db.upgrade`.

A developer adding a table edits ``salesradar/app/models.py`` and then writes a revision in
``versions/`` (``alembic revision --autogenerate`` with ``script_location`` set to this folder
and ``sqlalchemy.url`` to a scratch database gives a first draft).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from salesradar.app.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # run by the alembic command line
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
