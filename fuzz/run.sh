#!/usr/bin/env bash
# Bounded cargo-fuzz run of every target: replays fuzz/regressions, then fuzzes each target for
# FUZZ_SECONDS (default 30) from a corpus seeded with fuzz/seeds, tests/fixtures and docs/examples
# (scenario: scenarios/*.toml; pricing: pricing/*.toml).
# Exits non-zero (printing the artifact path) on a crash; skips (exit 0) without cargo-fuzz.
#
#   FUZZ_SECONDS=120 bash fuzz/run.sh            # longer run
#   FUZZ_TARGETS=ingest bash fuzz/run.sh         # one target
#   FUZZ_BUILD=-O bash fuzz/run.sh               # optimized build (default: --dev)
set -euo pipefail
cd "$(dirname "$0")"
root=..

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is not installed (cargo install cargo-fuzz --locked): skipped"
  exit 0
fi

# cargo-fuzz passes -Z flags (sanitizer, build-std-free coverage options); this lets a stable
# toolchain accept them, and is harmless on nightly.
export RUSTC_BOOTSTRAP=1

seconds="${FUZZ_SECONDS:-30}"
targets="${FUZZ_TARGETS:-record ingest sse scenario pricing baseline}"
build="${FUZZ_BUILD:---dev}"
# Keep libFuzzer's options in one place; -timeout flags inputs that hang.
opts=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)

# Store a seed under its content hash (libFuzzer's own naming), so re-seeding is idempotent.
put() { # dir, then the bytes on stdin
  local tmp h
  tmp="$(mktemp)"
  cat >"$tmp"
  h="$(sha1sum "$tmp" | cut -d' ' -f1)"
  mv "$tmp" "$1/$h"
}

seed() { # target
  local t="$1" dir="corpus/$1" f
  mkdir -p "$dir"
  if [ -d "seeds/$t" ]; then cp seeds/"$t"/* "$dir"/; fi
  # The text parsers start from the bundled files of their format.
  case "$t" in
    scenario) for f in "$root"/scenarios/*.toml; do put "$dir" <"$f"; done; return ;;
    pricing) for f in "$root"/pricing/*.toml; do put "$dir" <"$f"; done; return ;;
    baseline) return ;;
    sse) for f in "$root"/docs/examples/*.sse; do [ -f "$f" ] && put "$dir" <"$f"; done; return ;;
  esac
  for f in "$root"/tests/fixtures/*.ndjson "$root"/docs/examples/*; do
    [ -f "$f" ] || continue
    case "$t" in
      # First byte: '0' -> fuzz.ndjson (encoding detected), '1' -> fuzz.sse.
      ingest)
        case "$f" in
          *.sse) { printf 1; cat "$f"; } | put "$dir" ;;
          *) { printf 0; cat "$f"; } | put "$dir" ;;
        esac
        ;;
      # One object per input; first byte '0' -> no default type, '1' -> "agent.message".
      record)
        case "$f" in
          *.sse)
            grep '^data: ' "$f" | sed 's/^data: //' | while IFS= read -r line; do
              printf '1%s' "$line" | put "$dir"
            done
            ;;
          *)
            while IFS= read -r line || [ -n "$line" ]; do
              printf '0%s' "$line" | put "$dir"
            done <"$f"
            ;;
        esac
        ;;
    esac
  done
}

status=0
for t in $targets; do
  echo "== fuzz: building $t ($build)"
  cargo fuzz build "$build" "$t"

  # Known crashers must stay fixed: replay each one (no fuzzing).
  regs=(regressions/"$t"-*)
  if [ -e "${regs[0]}" ]; then
    echo "== fuzz: replaying ${#regs[@]} regression input(s) for $t"
    if ! cargo fuzz run "$build" "$t" "${regs[@]}" -- -runs=1 >"target/regressions-$t.log" 2>&1; then
      grep -E -A3 "panicked at|ERROR: |SUMMARY: |^Running: " "target/regressions-$t.log" >&2 \
        || tail -n 40 "target/regressions-$t.log" >&2
      echo "fuzz: $t fails on a saved regression input (fuzz/regressions/$t-*)" >&2
      status=1
      continue
    fi
  fi

  seed "$t"
  mkdir -p "artifacts/$t"
  before="$(ls "artifacts/$t")"
  echo "== fuzz: running $t for ${seconds}s"
  if ! cargo fuzz run "$build" "$t" "corpus/$t" -- "${opts[@]}"; then
    status=1
    new="$(comm -13 <(echo "$before") <(ls "artifacts/$t"))"
    if [ -n "$new" ]; then
      for a in $new; do echo "fuzz: $t crashed; reproducer: fuzz/artifacts/$t/$a" >&2; done
      echo "fuzz: reproduce with: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $build $t artifacts/$t/<file>" >&2
    else
      echo "fuzz: $t failed (no artifact written; see the output above)" >&2
    fi
  fi
done
exit "$status"
