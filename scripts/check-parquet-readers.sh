#!/usr/bin/env bash
# Real Parquet readers take a day-partitioned export whole: DuckDB (read_parquet with hive
# partitioning, GUIDE.md's query) and pyarrow.dataset read docs/examples exported with
# --partition day and must sum BilledCost (and the line items' amount) to exactly meter's
# total, as DECIMAL(38, 12), never a float. Exit 1 on a mismatch; exit 0 with "skipped" when
# python3 is missing or duckdb/pyarrow do not install (the venv is kept for the next run).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v python3 >/dev/null || { echo "check-parquet-readers: no python3: skipped"; exit 0; }
venv="${AGENTMETER_READERS_VENV:-${TMPDIR:-/tmp}/agentmeter-parquet-readers}"
if ! "$venv/bin/python" -c 'import duckdb, pyarrow.dataset' >/dev/null 2>&1; then
  if ! { python3 -m venv "$venv" \
      && "$venv/bin/pip" install -q --timeout 20 --retries 1 duckdb pyarrow; } >/dev/null 2>&1; then
    echo "check-parquet-readers: duckdb and pyarrow did not install here: skipped"
    exit 0
  fi
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run -q -- meter docs/examples -f json >"$out/meter.json" 2>/dev/null
cargo run -q -- export docs/examples --format focus-parquet --partition day -o "$out/focus" 2>/dev/null
cargo run -q -- export docs/examples --format parquet --partition day -o "$out/items" 2>/dev/null
for i in 1 2 3; do
  cargo run -q -- export docs/examples --format focus-parquet --partition day --shard "$i/3" \
    -o "$out/shards/shard-$i" 2>/dev/null
  cargo run -q -- meter docs/examples --shard "$i/3" --export "$out/usage/shard-$i" -f json \
    >/dev/null 2>&1
done

"$venv/bin/python" - "$out" <<'PY'
import json, sys
from decimal import Decimal
import duckdb, pyarrow as pa, pyarrow.compute as pc, pyarrow.dataset as ds

out = sys.argv[1]
db = duckdb.connect()
total = Decimal(json.load(open(f"{out}/meter.json"))["totals"]["cost"]["total"])
failed = False

def check(reader, what, got, typ):
    global failed
    ok = got == total and typ in ("DECIMAL(38,12)", pa.decimal128(38, 12))
    failed |= not ok
    print(f"{reader}: {what} = {got} ({typ}), meter {total}: {'ok' if ok else 'MISMATCH'}")

# GUIDE.md's layouts: one export's days, and every shard's days (shard-*/x_ChargeDate=*/).
for d, col in (("focus", "BilledCost"), ("items", "amount"), ("shards", "BilledCost")):
    glob = f"{out}/{d}/**/*.parquet"
    got, typ, days = db.execute(
        f"SELECT SUM({col}), typeof(SUM({col})), count(DISTINCT x_ChargeDate) "
        f"FROM read_parquet('{glob}', hive_partitioning = true)"
    ).fetchone()
    check("duckdb", f"{d}: sum({col}) over {days} days", got, typ)
    t = ds.dataset(f"{out}/{d}", format="parquet", partitioning="hive").to_table()
    check("pyarrow.dataset", f"{d}: sum({col})", pc.sum(t[col]).as_py(), t.schema.field(col).type)

# GUIDE.md's query, as written (but the path): its rows add up to the total.
readme = (
    "SELECT CAST(ChargePeriodStart AS DATE) AS day, x_Model AS model, SUM(BilledCost) AS usd "
    f"FROM read_parquet('{out}/focus/**/*.parquet', hive_partitioning = true) "
    "GROUP BY ALL ORDER BY day, model"
)
got, typ, n = db.execute(f"SELECT SUM(usd), typeof(SUM(usd)), count(*) FROM ({readme})").fetchone()
check("duckdb (GUIDE query)", f"sum of its {n} rows", got, typ)
# "Going past one machine": GUIDE.md's query over every shard's line_items.parquet.
shards = (
    "SELECT day, model, SUM(amount) AS usd, SUM(quantity) FILTER (WHERE unit = 'tokens') AS tokens "
    f"FROM read_parquet('{out}/usage/shard-*/line_items.parquet') "
    "GROUP BY day, model ORDER BY day, model"
)
got, typ, n = db.execute(f"SELECT SUM(usd), typeof(SUM(usd)), count(*) FROM ({shards})").fetchone()
check("duckdb (GUIDE shard query)", f"sum of its {n} rows", got, typ)
sys.exit(1 if failed else 0)
PY
