"""The core's conformance suite on Oracle (needs $NPA_TEST_ORACLE_URL; see conftest.py)."""

from npa_migrations.testing.suite import *  # noqa: F401,F403
