"""Alembic migrations, run from code on the configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do; it keeps concurrent replicas from migrating at once on PostgreSQL.
_LOCK_ID = 0x6B_6565_7065_72


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run from several processes at once."""
    if engine.dialect.name == "sqlite":
        await _upgrade_sqlite(engine, revision)
        return
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def _upgrade_sqlite(engine: AsyncEngine, revision: str) -> None:
    """Migrate with foreign keys off, and check them all before committing.

    SQLite changes a column by rebuilding its table (Alembic's batch mode): with foreign keys
    enforced, dropping the old table would cascade to every row that references it (a
    webhook's deliveries). The pragma only takes effect outside a transaction, so it is set on
    the connection before the migration's transaction begins, and set back after.
    """
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute("PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():
                await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows with broken references: {broken}")
        finally:
            await driver.execute("PRAGMA foreign_keys=ON")


async def pending(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied (empty when the schema is current)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    def current(sync: Connection) -> str | None:
        return MigrationContext.configure(sync).get_current_revision()

    async with engine.connect() as conn:
        applied = await conn.run_sync(current)
    return [] if applied == head else [str(head)]
