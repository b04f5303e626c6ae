#!/usr/bin/env bash
# PostgreSQL's first start (the image runs /docker-entrypoint-initdb.d/* once, on an
# empty data volume): one role per service, each the owner of its own database and
# unable to connect to the others'. The superuser stays with the entrypoint and this
# script. Mounted by docker-compose.yml; k8s/20-postgres.yaml carries a copy in its
# postgres-init ConfigMap (`cargo xtask secrets` fails when they differ).
#
# Reads USERS_DB_PASSWORD, CATALOG_DB_PASSWORD and ORDERS_DB_PASSWORD from the
# environment; psql quotes them (:'var'), so any character is safe here.
set -euo pipefail

: "${USERS_DB_PASSWORD:?}" "${CATALOG_DB_PASSWORD:?}" "${ORDERS_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v users_password="$USERS_DB_PASSWORD" \
    -v catalog_password="$CATALOG_DB_PASSWORD" \
    -v orders_password="$ORDERS_DB_PASSWORD" <<'SQL'
CREATE ROLE users LOGIN PASSWORD :'users_password';
CREATE ROLE catalog LOGIN PASSWORD :'catalog_password';
CREATE ROLE orders LOGIN PASSWORD :'orders_password';
-- The owner may connect to and create in its database (PostgreSQL 15: the public
-- schema belongs to the database owner); PUBLIC, every other role, may not connect.
CREATE DATABASE users OWNER users;
CREATE DATABASE catalog OWNER catalog;
CREATE DATABASE orders OWNER orders;
REVOKE ALL ON DATABASE users, catalog, orders FROM PUBLIC;
-- Nor to the maintenance database.
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
SQL
