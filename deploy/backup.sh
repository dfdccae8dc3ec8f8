#!/usr/bin/env bash
# Back up goalflow's PostgreSQL database in pg_dump's custom format (compressed; pg_restore reads it).
#   deploy/backup.sh [DIRECTORY]            (default: ./backups; DATABASE_URL from the environment)
# Writes DIRECTORY/goalflow-YYYYmmddTHHMMSSZ.dump and prints its path. Keeps the newest
# BACKUP_KEEP files (default 14) in DIRECTORY and deletes older ones.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must name the database to back up}"
dir="${1:-backups}"
keep="${BACKUP_KEEP:-14}"
# SQLAlchemy's driver suffix (postgresql+psycopg://) means nothing to libpq.
url="${DATABASE_URL/postgresql+psycopg:\/\//postgresql://}"

mkdir -p "$dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$dir/goalflow-$stamp.dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

# --no-owner/--no-acl: the dump restores into a database owned by whichever role restores it.
pg_dump -Fc --compress=6 --no-owner --no-acl --dbname="$url" --file="$partial"
pg_restore --list "$partial" >/dev/null  # an unreadable archive is no backup: fail now, not on restore day
mv "$partial" "$target"
trap - EXIT

if [ "$keep" -gt 0 ]; then
  ls -1t "$dir"/goalflow-*.dump 2>/dev/null | tail -n +"$((keep + 1))" | xargs -r rm -f --
fi
echo "$target"
