#!/usr/bin/env bash
# Back up the gateway's PostgreSQL database (docs/deploy.md, "Backups and restore").
#   scripts/backup.sh dump    DATABASE_URL FILE    # pg_dump custom format, compressed
#   scripts/backup.sh restore DATABASE_URL FILE    # into an EMPTY database, then check it
# DATABASE_URL is libpq's (postgresql://user@host:port/db), not SQLAlchemy's +psycopg form.
# The dump holds PII only encrypted (the data key is not in the database): keep the data
# key (SVCARD_DATA_KEY) and the keystore's backup apart from it, and both from the archive.
set -euo pipefail
what="${1:?dump or restore}"; url="${2:?DATABASE_URL}"; file="${3:?FILE}"
url="${url/postgresql+psycopg:/postgresql:}"
case "$what" in
  dump)
    # --no-owner/--no-acl: restorable by the gateway's own role on another server
    pg_dump --format=custom --compress=6 --no-owner --no-acl --file="$file" "$url"
    pg_restore --list "$file" >/dev/null  # the archive reads back whole
    echo "backup: $file ($(du -h "$file" | cut -f1))"
    ;;
  restore)
    tables=$(psql "$url" -Atc "select count(*) from pg_tables where schemaname = 'public'")
    if [ "$tables" != "0" ]; then
      echo "restore: $url is not empty ($tables tables): restore into a new, empty database" >&2
      exit 1
    fi
    # --exit-on-error: a half-restored database must not look like a whole one
    pg_restore --exit-on-error --no-owner --no-acl --single-transaction --dbname="$url" "$file"
    echo "restore: done; now run \`svcard doctor\` against it (migrations at head, the keystore opens)"
    ;;
  *) echo "usage: $0 dump|restore DATABASE_URL FILE" >&2; exit 2 ;;
esac
