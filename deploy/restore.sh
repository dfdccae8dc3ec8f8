#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into the database DATABASE_URL names.
#   deploy/restore.sh FILE.dump [--yes]
# Every goalflow object in the target is replaced (pg_restore --clean --if-exists), in one
# transaction: a restore that fails leaves the database as it was. Stop web, worker and beat first.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must name the database to restore into}"
file="${1:?usage: deploy/restore.sh FILE.dump [--yes]}"
[ -f "$file" ] || { echo "no such backup: $file" >&2; exit 2; }
url="${DATABASE_URL/postgresql+psycopg:\/\//postgresql://}"

pg_restore --list "$file" >/dev/null || { echo "not a pg_dump custom-format archive: $file" >&2; exit 2; }
if [ "${2:-}" != "--yes" ]; then
  read -r -p "Replace the contents of ${url##*/} with $file? [y/N] " answer
  [ "$answer" = "y" ] || [ "$answer" = "Y" ] || { echo "cancelled"; exit 1; }
fi

pg_restore --clean --if-exists --no-owner --no-acl --single-transaction --exit-on-error \
  --dbname="$url" "$file"
echo "restored $file into ${url##*/}"
