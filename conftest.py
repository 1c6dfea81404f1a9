pytest_plugins = ["renewals_shared.testing"]
