from npa_migrations.testing.suite import *  # noqa: F401,F403
