#!/usr/bin/env bash
# Regenerate reports/, the example reports a visitor can open, replacing it whole:
#   reports/examples/  `agentmeter report` of the bundled exports (docs/examples)
#   reports/budget/    `agentmeter project --report` of scenarios/budget.toml (README's budget example)
# With the debug binary (`cargo run`), so no release build is needed. tests/it/example_reports.rs
# runs the same commands into a temporary directory and fails when reports/ differs (the
# "Generated ... by agentmeter VERSION." line of index.html and report.md aside).
set -euo pipefail
cd "$(dirname "$0")/.."

# Beside reports/, so that the new tree is renamed into place.
out=$(mktemp -d reports.new.XXXXXX)
trap 'rm -rf "$out"' EXIT
chmod 755 "$out"

cargo run -q -- report docs/examples -o "$out/examples"
cargo run -q -- project scenarios/budget.toml --seed 7 --runs 200 --report "$out/budget" >/dev/null

cat >"$out/README.md" <<'EOF'
# Example reports

Written by `scripts/regen-reports.sh` (do not edit by hand); open each `index.html` in a browser.

- [`examples/`](examples/index.html): `agentmeter report docs/examples`, the bundled example
  exports metered and priced: summary, tables, cost by category, spend per day, every session in
  `meter.csv` and `meter.json`.
- [`budget/`](budget/index.html): `agentmeter project scenarios/budget.toml --seed 7 --runs 200
  --report ...`, a year's budget for a support agent with uncertain volume, growth and runtime
  price: the fan chart, the histogram of simulated totals, the data as `projection.csv` and
  `projection.json`.

`cargo test --test it example_reports` regenerates both into a temporary directory and compares
every file with these; only the line `Generated TIME by agentmeter VERSION.` of `index.html` and
`report.md` may differ.
EOF

rm -rf reports.old
if [ -e reports ]; then mv reports reports.old; fi
mv "$out" reports
rm -rf reports.old
du -sh reports
