#!/usr/bin/env bash
# Regenerate what is generated in the repository:
#   docs/reference/cli.md  from the clap definition (tests/it/cli_reference.rs writes it when
#                          AGENTMETER_UPDATE_DOCS=1; without it the same test fails on drift)
#   reports/               the example reports (scripts/regen-reports.sh)
# Debug builds only (no release build).
set -euo pipefail
cd "$(dirname "$0")/.."

AGENTMETER_UPDATE_DOCS=1 cargo test -q --test it cli_reference
bash scripts/regen-reports.sh
