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
