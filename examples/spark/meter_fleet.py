"""Meter a fleet of Managed Agents exports on Spark with agentmeter, exactly.

    spark-submit meter_fleet.py FLEET_DIR OUT_DIR [--agentmeter PATH] [--parts N]
                 [--out-uri URI] [--stage-locally] [--json FILE] [-- MORE METER ARGS]

1. The driver lists FLEET_DIR's input files (recursively, sorted: *.ndjson, *.jsonl, *.json,
   *.sse, each also .gz or .zst; what `agentmeter meter DIR` reads).
2. The list is spread over N partitions. Each partition, on an executor, writes its paths to a
   list file and runs one process:
       agentmeter meter --files-from LIST --export OUT_DIR/part-NNNNN -f json -o ...
   which writes the part's sessions.parquet and line_items.parquet (amounts Decimal(38, 12)).
   A retried task replaces its part whole (--force).
3. Spark reads every part's line_items.parquet and aggregates daily cost by model with Spark
   SQL; the amounts stay Decimal(38, 12) from the file to the total (no float anywhere).

It prints the daily table, then `total <exact decimal>`, and exits 1 if a session was metered
by two parts (its files were split between them; the fleet layout `agentmeter fetch` writes
has one file per session, so this does not happen there) or if Spark's total differs from the
sum of the parts' own totals.

FLEET_DIR and OUT_DIR are paths as the driver and the executors see them: local in local
mode; on a cluster, a path every node mounts (Databricks: /dbfs/... or /Volumes/...; EMR: an
EFS or Mountpoint-for-S3 mount). --out-uri is the same OUT_DIR as Spark reads it (dbfs:/...,
s3://...), by default file://OUT_DIR. See README.md beside this file.
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from decimal import Decimal

from pyspark import SparkFiles, TaskContext
from pyspark.sql import SparkSession

# What `agentmeter meter DIR` reads in a directory (ingest's INPUT_EXTENSIONS).
INPUT_EXTENSIONS = (".ndjson", ".jsonl", ".json", ".sse")


def is_input(name):
    for comp in (".gz", ".zst"):
        if name.endswith(comp):
            name = name[: -len(comp)]
            break
    return any(name.endswith(ext) and len(name) > len(ext) for ext in INPUT_EXTENSIONS)


def list_fleet(root):
    """Every input file under root, sorted by path."""
    found = []
    for d, dirs, files in os.walk(root, followlinks=True):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            if is_input(f) and os.path.isfile(p):
                found.append(p)
    return found


def exact(d):
    """A Decimal as a plain fixed-point string with no trailing zeros, as agentmeter's JSON
    writes amounts ("89.497983125", "0", "12")."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def resolve_binary(name):
    """On an executor: the shipped binary (SparkContext.addFile), made executable, or a
    command on the executor's PATH (an init script or bootstrap action installed it)."""
    try:
        shipped = SparkFiles.get(name)
    except Exception:
        shipped = None
    if shipped and os.path.isfile(shipped):
        mode = os.stat(shipped).st_mode
        if not mode & stat.S_IXUSR:
            os.chmod(shipped, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return shipped
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"agentmeter not found on this executor: {name}")
    return found


def meter_part(binary, out_dir, extra, stage_locally):
    """The function each partition runs: one agentmeter process over the partition's files;
    yields (part, files, sessions, the part's total as agentmeter wrote it).

    agentmeter writes an --export DIR beside it and renames it into place (replacing a
    retried task's part whole). On a mount that cannot rename a directory (Mountpoint for
    S3, some FUSE mounts), stage_locally exports into the executor's temporary directory and
    copies the two files to OUT/part-N with plain sequential writes."""

    def run(index, paths):
        paths = list(paths)
        if not paths:
            return
        exe = resolve_binary(binary)
        part = os.path.join(out_dir, f"part-{index:05d}")
        with tempfile.TemporaryDirectory(prefix="agentmeter-part-") as tmp:
            listing = os.path.join(tmp, "files.txt")
            with open(listing, "w", encoding="utf-8") as f:
                f.writelines(p + "\n" for p in paths)
            report = os.path.join(tmp, "meter.json")
            export = os.path.join(tmp, "export") if stage_locally else part
            cmd = [exe, "meter", "--files-from", listing, "--export", export, "--force",
                   "-f", "json", "-o", report, *extra]
            # As many threads as the task has cores (spark.task.cpus), not the whole node's:
            # the executor runs its other tasks beside this one.
            env = dict(os.environ)
            ctx = TaskContext.get()
            if "RAYON_NUM_THREADS" not in env and ctx is not None:
                env["RAYON_NUM_THREADS"] = str(max(1, ctx.cpus()))
            done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env)
            if done.returncode != 0:
                raise RuntimeError(f"part {index}: {' '.join(cmd)} exited {done.returncode}:\n"
                                   f"{done.stderr}")
            with open(report, encoding="utf-8") as f:
                totals = json.load(f)["totals"]
            if stage_locally:
                os.makedirs(part, exist_ok=True)
                for name in ("sessions.parquet", "line_items.parquet"):
                    target = os.path.join(part, name)
                    if os.path.lexists(target):
                        os.remove(target)  # a retried task's
                    shutil.copyfile(os.path.join(export, name), target)
        yield (index, len(paths), totals["sessions"], totals["cost"]["total"])

    return run


DAILY_BY_MODEL = """
    SELECT day, model,
           SUM(amount) AS usd,
           SUM(CASE WHEN unit = 'tokens' THEN quantity END) AS tokens
    FROM line_items
    GROUP BY day, model
    ORDER BY day, model
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fleet", help="directory of exports (as driver and executors see it)")
    ap.add_argument("out", help="shared directory for the parts (as the executors see it)")
    ap.add_argument("--out-uri", help="OUT as Spark reads it (default file://OUT)")
    ap.add_argument("--agentmeter", default=os.environ.get("AGENTMETER", "agentmeter"),
                    help="the binary: a file on the driver (shipped to the executors), "
                         "else a command on the executors' PATH (default $AGENTMETER or "
                         "agentmeter)")
    ap.add_argument("--parts", type=int, default=0,
                    help="partitions, one agentmeter process each (default: the cluster's "
                         "default parallelism)")
    ap.add_argument("--stage-locally", action="store_true",
                    help="export each part in the executor's temporary directory, then "
                         "copy it to OUT (for mounts that cannot rename a directory, such as "
                         "Mountpoint for S3)")
    ap.add_argument("--json", help="also write the totals and the daily table here (JSON)")
    ap.add_argument("--show", type=int, default=40, help="daily rows printed (default 40)")
    ap.epilog = ("After --: more `agentmeter meter` flags for every part, e.g. -- --tz "
                 "Europe/Paris (files they name must exist on the executors).")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:cut])
    args.meter_args = argv[cut + 1:]

    spark = SparkSession.builder.appName("agentmeter-fleet").getOrCreate()
    sc = spark.sparkContext

    files = list_fleet(args.fleet)
    if not files:
        sys.exit(f"error: no input files under {args.fleet}")
    parts = args.parts or sc.defaultParallelism
    parts = max(1, min(parts, len(files)))

    # The binary: already shipped (spark-submit --files), shipped now (a file here), or a
    # command each executor has (an init script or bootstrap action installed it).
    binary = args.agentmeter
    conf = sc.getConf()
    shipped = {os.path.basename(u) for key in ("spark.files", "spark.yarn.dist.files")
               for u in conf.get(key, "").split(",") if u}
    if os.path.basename(binary) in shipped:
        binary = os.path.basename(binary)
    elif os.path.isfile(binary):
        sc.addFile(os.path.abspath(binary))
        binary = os.path.basename(binary)
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    out_uri = (args.out_uri or "file://" + out_dir).rstrip("/")

    # Whole files go to partitions (parallelize cuts the sorted list in contiguous slices):
    # one process per partition, each with its own list.
    metered = (
        sc.parallelize(files, parts)
        .mapPartitionsWithIndex(meter_part(binary, out_dir, args.meter_args, args.stage_locally))
        .collect()
    )
    metered.sort()
    for index, n, sessions, total in metered:
        print(f"part-{index:05d}: {n} files, {sessions} sessions, {total}", file=sys.stderr)

    written = [f"{out_uri}/part-{i:05d}" for i, *_ in metered]
    items = spark.read.parquet(*[f"{p}/line_items.parquet" for p in written])
    items.createOrReplaceTempView("line_items")
    spark.read.parquet(*[f"{p}/sessions.parquet" for p in written]) \
        .createOrReplaceTempView("sessions")

    amount = dict(items.dtypes)["amount"]
    if amount != "decimal(38,12)":
        sys.exit(f"error: line_items.amount is {amount}, not decimal(38,12)")

    # A session in two parts would be counted twice: refuse the total.
    twice = spark.sql(
        "SELECT session_id, COUNT(*) AS parts FROM sessions GROUP BY session_id "
        "HAVING COUNT(*) > 1 ORDER BY session_id"
    ).collect()
    if twice:
        ids = ", ".join(r.session_id for r in twice[:10])
        sys.exit(f"error: {len(twice)} session(s) metered by more than one part (their files "
                 f"were split between parts): {ids}")

    daily = spark.sql(DAILY_BY_MODEL)
    rows = daily.collect()
    total = spark.sql("SELECT SUM(amount) AS total FROM line_items").first().total
    total = total if total is not None else Decimal(0)
    # The same money by two roads: Spark's sum of the line items, and the sum of the parts'
    # totals as each agentmeter process computed them.
    by_parts = sum((Decimal(t) for *_, t in metered), Decimal(0))
    daily_sum = sum((r.usd for r in rows if r.usd is not None), Decimal(0))

    print(f"{'day':<10}  {'model':<28}  {'usd':>24}  {'tokens':>14}")
    for r in rows[: args.show]:
        print(f"{r.day:<10}  {r.model or '-':<28}  {exact(r.usd):>24}  "
              f"{'' if r.tokens is None else r.tokens:>14}")
    if len(rows) > args.show:
        print(f"... {len(rows) - args.show} more rows (--show N)")
    sessions = sum(s for _, _, s, _ in metered)
    print(f"files {len(files)}, parts {len(metered)}, sessions {sessions}, "
          f"line items {items.count()}, days x models {len(rows)}")
    print(f"total {exact(total)}")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({
                "total": exact(total),
                "parts_total": exact(by_parts),
                "files": len(files),
                "parts": len(metered),
                "sessions": sessions,
                "daily_by_model": [
                    {"day": r.day, "model": r.model, "usd": exact(r.usd), "tokens": r.tokens}
                    for r in rows
                ],
            }, f, indent=1)
    spark.stop()
    if total != by_parts or total != daily_sum:
        sys.exit(f"error: Spark's total {exact(total)} differs from the parts' "
                 f"{exact(by_parts)} or the daily rows' {exact(daily_sum)}")


if __name__ == "__main__":
    main()
