from order_service.adapters.orm import metadata
from renewals_shared.migrations import run_alembic_env

run_alembic_env(metadata, "ORDER_DATABASE_URL")
