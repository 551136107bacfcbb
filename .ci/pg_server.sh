#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL server on 127.0.0.1 in a temp folder.
#   source .ci/pg_server.sh start   -> exports EXPTABLE_TEST_PG_URL and PG_TMP
#   .ci/pg_server.sh stop DIR
set -u
PG_PORT="${PG_PORT:-}"

# The first port from 55432 that nothing listens on (a developer's server may hold 55432).
pg_free_port() {
    local port
    for port in $(seq 55432 55532); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
    done
    return 1
}

pg_bin_dir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

pg_install() {
    if ! pg_bin_dir >/dev/null; then
        echo "installing PostgreSQL from Debian's packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
    fi
}

pg_start() {
    pg_install
    local bin; bin="$(pg_bin_dir)" || { echo "PostgreSQL not available" >&2; return 1; }
    [ -n "$PG_PORT" ] || PG_PORT="$(pg_free_port)" || { echo "no free port for PostgreSQL" >&2; return 1; }
    PG_TMP="$(mktemp -d /tmp/exptable-pg.XXXXXX)"
    local runas=()
    if [ "$(id -u)" = "0" ]; then
        id postgres >/dev/null 2>&1 || useradd -r -M postgres
        chown postgres "$PG_TMP"
        runas=(runuser -u postgres --)
    fi
    "${runas[@]}" "$bin/initdb" -D "$PG_TMP/data" -U exptable --auth=trust -E UTF8 >"$PG_TMP/initdb.log" 2>&1 \
        || { cat "$PG_TMP/initdb.log" >&2; return 1; }
    "${runas[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $PG_PORT -k $PG_TMP -c fsync=off -c max_connections=200" start >/dev/null \
        || { cat "$PG_TMP/server.log" >&2; return 1; }
    export PG_TMP
    export EXPTABLE_TEST_PG_URL="postgresql://exptable@127.0.0.1:$PG_PORT/postgres"
    echo "PostgreSQL running at $EXPTABLE_TEST_PG_URL" >&2
}

pg_stop() {
    local dir="${1:-${PG_TMP:-}}"
    [ -n "$dir" ] && [ -d "$dir/data" ] || return 0
    local bin; bin="$(pg_bin_dir)"
    local runas=()
    [ "$(id -u)" = "0" ] && runas=(runuser -u postgres --)
    "${runas[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) pg_start ;;
    stop) pg_stop "${2:-}" ;;
esac
