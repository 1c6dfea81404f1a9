#!/bin/sh
# One role and one database per service (DESIGN.md section 4: each service owns its database).
# Run once by the postgres image's entrypoint on an empty data directory (docker-compose.yml mounts it into
# /docker-entrypoint-initdb.d). Passwords come from <SERVICE>_DB_PASSWORD in the container's environment.
set -eu

for service in order token reseller notifier; do
    variable="$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="$(printenv "$variable" || true)"
    if [ -z "$password" ]; then
        echo "init-databases: $variable is not set" >&2
        exit 1
    fi
    # psql variables (:"name" quoted identifier, :'value' quoted literal): no SQL built by string pasting.
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v service="$service" -v password="$password" <<'SQL'
CREATE ROLE :"service" LOGIN PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
SQL
    echo "init-databases: database $service owned by role $service"
done
