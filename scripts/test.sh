#!/usr/bin/env bash
# Lint, type-check, check the layers and test moodcast (run scripts/setup.sh --dev first).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# mypy reads the folders under the names they install as (moodcast.edge, ...): a view of links.
mkdir -p .typecheck/moodcast
for layer in config models player edge; do ln -sfn "../../$layer" ".typecheck/moodcast/$layer"; done
.venv/bin/mypy
.venv/bin/lint-imports --no-cache  # the layers contract in pyproject.toml
.venv/bin/python -m pytest -q "$@"
