#!/usr/bin/env bash
# Runs once, when the postgres image initialises an empty data directory: the tipwire database and the
# role the services connect as. `tipwire migrate --service-role tipwire_service` (the migrate job, as
# the owner) grants that role only what the service needs.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v password="$(tr -d '\n' < /run/secrets/tipwire_db_password)" <<'SQL'
CREATE DATABASE tipwire;
CREATE ROLE tipwire_service LOGIN PASSWORD :'password';
SQL
