"""The conformance suite: star-import it into a provider's ``tests/test_suite.py``::

    from npa_migrations.testing.suite import *  # noqa: F401,F403

Each module holds ``Test...`` classes; a provider overrides one test by subclassing the
class under the same name after the star import (see ``docs/conformance-suite.md``).
"""

from .test_columns import *  # noqa: F401,F403
from .test_constraints import *  # noqa: F401,F403
from .test_crash_points import *  # noqa: F401,F403
from .test_data import *  # noqa: F401,F403
from .test_drift import *  # noqa: F401,F403
from .test_history import *  # noqa: F401,F403
from .test_identifiers import *  # noqa: F401,F403
from .test_indexes import *  # noqa: F401,F403
from .test_lock import *  # noqa: F401,F403
from .test_rollback import *  # noqa: F401,F403
from .test_schemas import *  # noqa: F401,F403
from .test_sql_files import *  # noqa: F401,F403
from .test_tables import *  # noqa: F401,F403
from .test_transactions import *  # noqa: F401,F403
from .test_validation import *  # noqa: F401,F403
