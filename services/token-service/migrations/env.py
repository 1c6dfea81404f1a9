from renewals_shared.migrations import run_alembic_env
from token_service.adapters.orm import metadata

run_alembic_env(metadata, "TOKEN_DATABASE_URL")
