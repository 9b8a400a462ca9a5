#!/usr/bin/env bash
# Start the local PostgreSQL and MariaDB servers when they are installed but not running.
# Used by .ci/run; harmless when they already run or are not installed.
set -uo pipefail

wait_for() {  # wait_for NAME COMMAND...
    local name=$1; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then echo "$name is up"; return 0; fi
        sleep 0.5
    done
    echo "$name did not come up" >&2
    return 1
}

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
        version=$(ls /etc/postgresql | head -n 1)
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    fi
    wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432
    psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" \
        | grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE test"
fi

if [ -x /usr/sbin/mariadbd ]; then
    if ! mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    fi
    wait_for MariaDB mysqladmin -h 127.0.0.1 -uroot ping
    mysql -h 127.0.0.1 -uroot -e "CREATE DATABASE IF NOT EXISTS test"
fi
exit 0
