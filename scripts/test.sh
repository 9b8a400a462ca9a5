#!/usr/bin/env bash
# The whole test suite (README's second command): installs the workspace, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-uv.sh
uv sync --all-packages --quiet --compile-bytecode
export NPA_TEST_POSTGRES_URL="${NPA_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
export NPA_TEST_MYSQL_URL="${NPA_TEST_MYSQL_URL:-mysql+pymysql://root@127.0.0.1:3306/test}"
exec uv run --no-sync pytest "$@"
