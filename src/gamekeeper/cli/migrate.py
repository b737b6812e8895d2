"""``gamekeeper migrate``: bring the database schema to the current revision."""

from __future__ import annotations

import asyncio

from gamekeeper.cli.common import (
    ConfigOption,
    fail,
    lock_data_dir,
    out,
    read_settings,
)
from gamekeeper.settings import Settings


def migrate(config: ConfigOption = None) -> None:
    """Apply the database migrations and print the revision reached."""
    settings = read_settings(config)
    if settings.embedded:
        lock_data_dir(settings)
    revision = run_migrations(settings)
    out.print(f"Database {safe_url(settings)} is at revision {revision}.")


def run_migrations(settings: Settings) -> str:
    """Upgrade the schema and return the revision reached, or exit 1 with the reason."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return asyncio.run(_upgrade(settings))
    except (OSError, SQLAlchemyError) as exc:
        reason = getattr(exc, "orig", None) or exc
        fail(f"cannot migrate the database {safe_url(settings)}: {reason}")


async def _upgrade(settings: Settings) -> str:
    from alembic.runtime.migration import MigrationContext

    from gamekeeper.db.database import Database
    from gamekeeper.db.migrate import upgrade

    db = Database(settings.sqlalchemy_url, pool_size=1)
    try:
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            revision = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await db.close()
    return str(revision)


def safe_url(settings: Settings) -> str:
    """The database URL with its password hidden, fit to print."""
    from sqlalchemy.engine import make_url

    return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)
