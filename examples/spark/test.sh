#!/usr/bin/env bash
# examples/spark/meter_fleet.py in Spark's local mode on a generated fleet: Spark's total (and
# every day x model row) must equal one `agentmeter meter` process's, to the last decimal
# (the exact decimal strings are compared, never floats).
#
# Installs what it needs when missing: pyspark into a venv under ${TMPDIR:-/tmp} (kept for the
# next run; $AGENTMETER_SPARK_VENV to choose), and a Java 17 runtime with apt-get
# (openjdk-17-jre-headless; sudo when not root). When neither can be had it prints
# "skipped: ..." and exits 0. The binary is $AGENTMETER, else the debug build (cargo build).
# Exit 1 on a mismatch.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
start=$SECONDS

skip() { echo "spark example: skipped: $*"; exit 0; }

# Java 17 or later (Spark 4 needs 17).
java_major() { "$1" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == 1 ? v[2] : v[1]); exit}'; }
java_ok() { local j; j="$(command -v "${1:-java}")" || return 1; [ "$(java_major "$j")" -ge 17 ] 2>/dev/null; }
if [ -n "${JAVA_HOME:-}" ] && java_ok "$JAVA_HOME/bin/java"; then
  :
elif java_ok java; then
  :
else
  if command -v apt-get >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null && sudo="sudo -n" || skip "no Java 17 and not root (no sudo) to install openjdk-17-jre-headless"
    fi
    echo "spark example: installing openjdk-17-jre-headless" >&2
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jre-headless; } >/dev/null 2>&1 \
      || skip "openjdk-17-jre-headless did not install"
  fi
  j17="$(ls -d /usr/lib/jvm/java-17-openjdk*/bin/java 2>/dev/null | head -1 || true)"
  if [ -n "$j17" ] && java_ok "$j17"; then
    export JAVA_HOME="${j17%/bin/java}"
  elif ! java_ok java; then
    skip "no Java 17 runtime (and no apt-get to install openjdk-17-jre-headless)"
  fi
fi

# pyspark in a venv.
command -v python3 >/dev/null || skip "no python3"
venv="${AGENTMETER_SPARK_VENV:-${TMPDIR:-/tmp}/agentmeter-pyspark}"
if ! "$venv/bin/python" -c 'import pyspark' >/dev/null 2>&1; then
  echo "spark example: installing pyspark into $venv" >&2
  { python3 -m venv "$venv" && "$venv/bin/pip" install -q --timeout 60 --retries 2 pyspark; } >/dev/null 2>&1 \
    || skip "pyspark did not install (pip install pyspark into $venv)"
fi
py="$venv/bin/python"
export PYSPARK_PYTHON="$py" PYSPARK_DRIVER_PYTHON="$py"
installed=$SECONDS

# The binary.
if [ -n "${AGENTMETER:-}" ]; then
  bin="$AGENTMETER"
else
  cargo build -q
  bin="$PWD/target/debug/agentmeter"
fi
[ -x "$bin" ] || { echo "spark example: $bin is not an executable" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/agentmeter-spark.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# A fleet in the layout `fetch` writes: one file per session, here in two folders of two
# scenarios (different seeds, so no two sessions share an id), and a file that is no export.
"$bin" simulate scenarios/team.toml --sessions 240 --seed 7 -o "$tmp/fleet/team" >/dev/null 2>&1
"$bin" simulate scenarios/daily-research.toml --sessions 120 --seed 8 -o "$tmp/fleet/research" >/dev/null 2>&1
echo "not an export" >"$tmp/fleet/README.txt"
files=$(find "$tmp/fleet" -name '*.ndjson' | wc -l)

# One process: the reference.
"$bin" meter "$tmp/fleet" -f json -o "$tmp/meter.json" 2>/dev/null
"$bin" meter "$tmp/fleet" -f json --group-by day,model -o "$tmp/daily.json" 2>/dev/null

# The Spark job, local mode, two cores, four parts.
if ! "$venv/bin/spark-submit" --master 'local[2]' \
    --conf spark.ui.enabled=false --conf spark.sql.shuffle.partitions=4 \
    --driver-java-options '-Dlog4j2.level=warn' \
    "$here/meter_fleet.py" "$tmp/fleet" "$tmp/out" --agentmeter "$bin" --parts 4 \
    --json "$tmp/spark.json" >"$tmp/spark.out" 2>"$tmp/spark.err"; then
  echo "spark example: the job failed:" >&2
  tail -40 "$tmp/spark.err" >&2
  exit 1
fi
grep '^part-' "$tmp/spark.out" || true

"$py" - "$tmp" "$files" <<'PY'
import json, sys
from decimal import Decimal

tmp, files = sys.argv[1], int(sys.argv[2])
meter = json.load(open(f"{tmp}/meter.json"))["totals"]
spark = json.load(open(f"{tmp}/spark.json"))
printed = [l.split()[1] for l in open(f"{tmp}/spark.out") if l.startswith("total ")]
failed = []

def check(what, got, want):
    ok = got == want
    print(f"{what}: spark {got}, agentmeter meter {want}: {'ok' if ok else 'MISMATCH'}")
    if not ok:
        failed.append(what)

# The totals as exact decimal strings, compared as strings.
check("total (exact decimal string)", spark["total"], meter["cost"]["total"])
check("total printed by the job", printed, [meter["cost"]["total"]])
check("sum of the parts' totals", spark["parts_total"], meter["cost"]["total"])
check("sessions", spark["sessions"], meter["sessions"])
check("files", spark["files"], files)
print(f"parts: {spark['parts']} agentmeter processes")
if spark["parts"] < 2:
    failed.append("parts")

# Every day x model row, as `meter --group-by day,model` computes it.
rows = json.load(open(f"{tmp}/daily.json"))["groups"]["rows"]
want = {(r["keys"]["day"], r["keys"]["model"]): (r["cost"]["total"], sum(r["tokens"].values()))
        for r in rows}
got = {(r["day"], r["model"]): (r["usd"], r["tokens"] or 0) for r in spark["daily_by_model"]}
bad = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
for k in bad[:10]:
    print(f"  {k}: spark {got.get(k)}, agentmeter meter --group-by day,model {want.get(k)}")
print(f"day x model rows (cost, tokens): {len(got)} from spark, {len(want)} from agentmeter "
      f"meter --group-by day,model, {len(bad)} differ: {'ok' if not bad else 'MISMATCH'}")
if bad:
    failed.append("daily rows")
# Decimal(38, 12) end to end: the sum of the rows is the total, exactly.
def exact(d):
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s
check("sum of the daily rows", exact(sum(Decimal(u) for u, _ in got.values())),
      meter["cost"]["total"])
sys.exit(1 if failed else 0)
PY

# A session whose files land in two parts is refused, not counted twice (here its one file
# copied into two folders, two parts; parts staged locally and copied, as on an S3 mount).
mkdir -p "$tmp/split/a" "$tmp/split/b"
one="$(find "$tmp/fleet/team" -name '*.ndjson' | sort | head -1)"
cp "$one" "$tmp/split/a/"
cp "$one" "$tmp/split/b/"
if "$venv/bin/spark-submit" --master 'local[2]' --conf spark.ui.enabled=false \
    "$here/meter_fleet.py" "$tmp/split" "$tmp/split-out" --agentmeter "$bin" --parts 2 \
    --stage-locally >"$tmp/split.out" 2>"$tmp/split.err"; then
  echo "split session: the job succeeded: MISMATCH (a session in two parts must be refused)"
  exit 1
fi
if grep -q 'session(s) metered by more than one part' "$tmp/split.err" "$tmp/split.out"; then
  echo "split session: $(basename "$one" .ndjson) in parts 0 and 1 refused: ok"
else
  echo "split session: the job failed, but not on the split session: MISMATCH" >&2
  tail -20 "$tmp/split.err" >&2
  exit 1
fi
echo "spark example: ok (${files} files; installs $((installed - start)) s, build and run $((SECONDS - installed)) s)"
