#!/bin/sh
# Run once by the postgres image on an empty data directory: the two roles of docs/operations.md
# ("Database roles") and the database, owned by the owner role. Neither role is a superuser or
# bypasses row-level security.
set -eu
psql -v ON_ERROR_STOP=1 --username postgres --dbname postgres \
  -v owner_pw="$HUIJIA_OWNER_DB_PASSWORD" -v app_pw="$HUIJIA_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE huijia_owner LOGIN PASSWORD :'owner_pw' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE ROLE huijia_app LOGIN PASSWORD :'app_pw' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
SELECT 'CREATE DATABASE huijia OWNER huijia_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'huijia')\gexec
ALTER DATABASE huijia OWNER TO huijia_owner;
SQL
