#!/usr/bin/env bash
# README's first command: install everything, then run the demo migrations on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-uv.sh
uv sync --all-packages --quiet --compile-bytecode
rm -f demo.db
uv run --no-sync npa --config examples/npa.toml migrate up
uv run --no-sync npa --config examples/npa.toml migrate status
