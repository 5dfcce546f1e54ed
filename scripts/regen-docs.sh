#!/usr/bin/env bash
# Regenerate what is generated in the repository:
#   docs/reference/cli.md  from the clap definition (tests/it/cli_reference.rs writes it when
#                          AGENTMETER_UPDATE_DOCS=1; without it the same test fails on drift)
#   docs/schema/           the JSON outputs' schemas, from their types (tests/it/json_schemas.rs,
#                          the same way)
#   reports/               the example reports (scripts/regen-reports.sh)
# Debug builds only (no release build).
set -euo pipefail
cd "$(dirname "$0")/.."

AGENTMETER_UPDATE_DOCS=1 cargo test -q --test it cli_reference
AGENTMETER_UPDATE_DOCS=1 cargo test -q --test it -- json_schemas
bash scripts/regen-reports.sh
