# Shared helpers for deploy/local/*: installing what is missing and running a
# private PostgreSQL cluster. Sourced, not executed.

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A script starts its programs with the settings it means them to have, and nothing else. A shell that
# sourced .tipwire/env holds the TIPWIRE_* addresses and tokens of a stack that may be live (a test would
# write into it) or gone (a test would wait on dead ports); libpq's PG* variables (PGOPTIONS, PGSSLMODE,
# PGPASSWORD, …) would change how psql, pgbench and tipwire connect. So sourcing this file unsets every
# exported TIPWIRE_* and PG* variable of the caller. A script that takes one on purpose, as an override
# documented in its usage text, says so with take_setting; report_ignored_settings names the rest.
declare -A CALLER_SETTINGS=()
for _name in $(compgen -e TIPWIRE_) $(compgen -e PG); do
    CALLER_SETTINGS[$_name]=${!_name}
    unset "$_name"
done
unset _name

# take_setting NAME...: exports the caller's value of each NAME again (when it had one), for this script
# and its programs.
take_setting() {
    local name
    for name in "$@"; do
        [ -n "${CALLER_SETTINGS[$name]+set}" ] || continue
        export "$name=${CALLER_SETTINGS[$name]}"
        unset "CALLER_SETTINGS[$name]"
    done
}

# report_ignored_settings: one line naming (never showing: some are tokens) the caller's settings ignored.
report_ignored_settings() {
    ((${#CALLER_SETTINGS[@]})) || return 0
    log "ignoring the caller's settings (this script sets its own): $(printf '%s\n' "${!CALLER_SETTINGS[@]}" | sort | paste -sd ' ')"
}

# Debian packages tipwire needs to build, run, test and benchmark (postgresql-contrib has pgbench; wrk is
# tipwire-bench ingest's HTTP load).
TIPWIRE_APT_PACKAGES=(libpq-dev librdkafka-dev postgresql postgresql-contrib kcat curl python3 python3-pip ca-certificates wrk)
# Debian packages only the tests need: a real browser for the dashboard check.
TIPWIRE_TEST_APT_PACKAGES=(chromium chromium-driver)
# Python packages used by the tests as independent checkers: a Kafka client, JSON Schema, an OpenAPI fuzzer,
# HPKE, and a browser driver with axe-core for the dashboard. Each is checked by its import name (- becomes _).
TIPWIRE_PIP_PACKAGES=(aiokafka jsonschema schemathesis pyhpke selenium axe-selenium-python)

# ensure_packages [EXTRA_PACKAGE...]: installs TIPWIRE_APT_PACKAGES and any extra ones that are missing.
ensure_packages() {
    local missing=()
    for package in "${TIPWIRE_APT_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if ((${#missing[@]})); then
        [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them: apt-get install -y ${missing[*]}"
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    command -v swift >/dev/null || die "swift is not on PATH (Swift 6.1 or later is required)"
}

ensure_python_packages() {
    local missing=()
    for package in "${TIPWIRE_PIP_PACKAGES[@]}"; do
        python3 -c "import ${package//-/_}" 2>/dev/null || missing+=("$package")
    done
    if ((${#missing[@]})); then
        log "installing Python packages ${missing[*]}"
        python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}" \
            || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${missing[@]}"
    fi
}

pg_bin() {
    local newest
    newest=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
    [ -n "$newest" ] || die "no PostgreSQL server under /usr/lib/postgresql"
    echo "/usr/lib/postgresql/$newest/bin"
}

# Runs a command as the cluster's owner: `postgres` when we are root (initdb refuses root).
# From /, since postgres may not be allowed into the current directory (paths passed are absolute).
as_owner() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# cluster_dir STATE: where the private cluster of a checkout lives: STATE/pg, unless the postgres user
# cannot reach STATE (a checkout in root's home, or in a `mktemp -d` directory, is closed to others):
# initdb and the server run as postgres, so the cluster then lives under /var/lib/tipwire/, named after
# the checkout. The choice is kept in STATE/pg-location so every later command finds the same cluster.
cluster_dir() {
    local state=$1 dir
    if [ -s "$state/pg-location" ]; then cat "$state/pg-location"; return; fi
    dir=$state/pg
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$state" 2>/dev/null; then
        dir=/var/lib/tipwire/$(printf '%s' "$state" | sha256sum | cut -c1-16)/pg
        mkdir -p "$dir"
        chown postgres:postgres "$(dirname "$dir")" "$dir"
        chmod 700 "$(dirname "$dir")"
    fi
    echo "$dir" >"$state/pg-location"
    echo "$dir"
}

# init_cluster DIR: creates a cluster in DIR/data owned by the right user.
init_cluster() {
    local dir=$1
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
    as_owner "$(pg_bin)/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed in $dir"; }
}

# start_cluster DIR PORT [extra postgres options]
start_cluster() {
    local dir=$1 port=$2 extra=${3:-}
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/postgres.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 $extra" start >/dev/null \
        || { tail -n 20 "$dir/postgres.log" >&2; die "PostgreSQL did not start (log: $dir/postgres.log)"; }
}

stop_cluster() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -w -m fast stop >/dev/null 2>&1
    return 0
}

# service_url OWNER_URL: creates the login role the service connects as (once per cluster; trust
# authentication on 127.0.0.1 here) and prints OWNER_URL with that role in place of the owner.
service_url() {
    psql "$1" -qc "DO \$\$ BEGIN CREATE ROLE tipwire_service LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END \$\$" \
        || die "cannot create the role tipwire_service"
    local rest=${1#postgres://}
    echo "postgres://tipwire_service@${rest#*@}"
}
