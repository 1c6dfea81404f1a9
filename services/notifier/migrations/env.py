from notifier.adapters.orm import metadata
from renewals_shared.migrations import run_alembic_env

run_alembic_env(metadata, "NOTIFIER_DATABASE_URL")
