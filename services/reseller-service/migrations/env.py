from renewals_shared.migrations import run_alembic_env

from reseller_service.adapters.orm import metadata

run_alembic_env(metadata, "RESELLER_DATABASE_URL")
