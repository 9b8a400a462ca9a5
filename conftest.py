"""Session-wide test configuration of the workspace.

npa-concurrent-index is installed in the workspace, and once loaded it changes how every
PostgreSQL migration with an index runs (outside a transaction). The other packages'
tests are written against the providers' own SQL, so the session blocks it by entry-point
name (``NPA_DISABLE_PLUGINS``, inherited by CLI subprocesses); its own tests register it
explicitly (plugins/npa-concurrent-index/tests/conftest.py).
"""

import os

_blocked = [n for n in os.environ.get("NPA_DISABLE_PLUGINS", "").split(",") if n.strip()]
if "concurrent_index" not in _blocked:
    os.environ["NPA_DISABLE_PLUGINS"] = ",".join(_blocked + ["concurrent_index"])

# ``pytester`` runs pytest in-process on generated test files (the conformance plugin's
# own tests, core/tests/test_suite_gates.py)
pytest_plugins = ["pytester"]
