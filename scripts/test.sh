#!/usr/bin/env bash
# Lint, type-check and test moodcast (run scripts/setup.sh --dev first).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
