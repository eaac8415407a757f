"""Shared by deploy/local's Python checks, as lib.sh is by its shell scripts. Imported, not run."""
import os

# The caller's tipwire settings (a sourced .tipwire/env names a live or a stopped stack) and libpq's
# (PGOPTIONS, PGSSLMODE, PGPASSWORD, … change how psql, pg_dump and tipwire connect).
SETTING_PREFIXES = ("TIPWIRE_", "PG")


def isolate_environment():
    """Unsets the caller's TIPWIRE_* and PG* variables, so every program a check starts (tipwire, psql,
    a README example) gets only the settings the check gives it. Returns the names unset."""
    ignored = sorted(name for name in os.environ if name.startswith(SETTING_PREFIXES))
    for name in ignored:
        del os.environ[name]
    return ignored


def kafka_messages(bootstrap, quiet_seconds=5):
    """Every message on every tipwire.* topic, from the beginning, until none has come for
    `quiet_seconds`: (topic, offset, key, value, headers) records as aiokafka gives them."""
    import asyncio
    import time
    import uuid

    from aiokafka import AIOKafkaConsumer

    async def read():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"check-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
                                    enable_auto_commit=False)
        await consumer.start()
        consumer.subscribe(pattern=r"^tipwire\..*")
        seen, quiet_since = [], time.monotonic()
        while time.monotonic() - quiet_since < quiet_seconds:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                seen += records
                quiet_since = time.monotonic()
        await consumer.stop()
        return seen

    return asyncio.run(read())

