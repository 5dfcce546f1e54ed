#!/usr/bin/env bash
# The logic of action.yml (kept here so that a test can run it with a fake `gh`).
#
#   cost-check.sh install   install the release binary for this runner, if the release has one
#                           (verified against its .sha256); prints installed=true|false to
#                           $GITHUB_OUTPUT, so that the action falls back to `cargo install`.
#   cost-check.sh build     cargo install --locked: the action's own source, or INPUT_VERSION's tag.
#   cost-check.sh [check]   run `agentmeter check`, append its summary to $GITHUB_STEP_SUMMARY,
#                           create or update ONE sticky PR comment; exit with check's code
#                           (0 pass, 1 a threshold failed, 2 an error).
#
# Inputs come from the environment (action.yml maps its inputs to INPUT_*): INPUT_PATHS
# (whitespace-separated), INPUT_BASELINE, INPUT_MAX_INCREASE, INPUT_MAX_INCREASE_USD,
# INPUT_BUDGET, INPUT_CONTRACT (a contract file for --contract), INPUT_PER_TASK and
# INPUT_COMMENT (true/false), INPUT_VERSION; and
# AGENTMETER_BIN (default agentmeter), PR_NUMBER, GITHUB_REPOSITORY, ACTION_REPO, RUNNER_*.
set -euo pipefail

marker='<!-- agentmeter-cost-check -->'
here=$(cd "$(dirname "$0")" && pwd)
# github.action_repository is often empty in composite actions (actions/runner#2525); the
# action's path, .../_actions/OWNER/REPO/REF, names it too.
if [ -z "${ACTION_REPO:-}" ] && [[ $here == */_actions/*/*/*/scripts ]]; then
  repo_dir=$(dirname "$(dirname "$here")")
  ACTION_REPO=$(basename "$(dirname "$repo_dir")")/$(basename "$repo_dir")
fi

die() {
  echo "error: $*" >&2
  exit 2
}

boolean() { # NAME VALUE: true or false, else exit 2
  case "$2" in
    true | false) ;;
    *) die "$1: expected true or false, got '$2'" ;;
  esac
}

# The release asset's target for this runner, empty when no binary is published for it.
target() {
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

# The version to install: INPUT_VERSION, else the action's own (its Cargo.toml).
version() {
  local v=${INPUT_VERSION:-}
  v=${v#v}
  [ -n "$v" ] || v=$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q;}' "$here/../Cargo.toml")
  echo "$v"
}

install() {
  local version tgt name asset url dir
  version=$(version)
  echo "version=$version" >>"${GITHUB_OUTPUT:-/dev/null}"
  tgt=$(target)
  name="agentmeter-v$version-$tgt"
  case "$tgt" in *windows*) asset=$name.zip ;; *) asset=$name.tar.gz ;; esac
  url="${GITHUB_SERVER_URL:-https://github.com}/${ACTION_REPO:-}/releases/download/v$version"
  dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/agentmeter-$version"
  mkdir -p "$dir"
  # No binary for this runner, or none published for this version: the action builds one.
  if [ -z "$tgt" ] || [ -z "${ACTION_REPO:-}" ] ||
    ! curl -fsSL --retry 3 -o "$dir/$asset" "$url/$asset" ||
    ! curl -fsSL --retry 3 -o "$dir/$asset.sha256" "$url/$asset.sha256"; then
    echo "no release binary $asset: building from source" >&2
    echo "installed=false" >>"${GITHUB_OUTPUT:-/dev/null}"
    return
  fi
  # A binary that does not match its checksum is never run, nor silently replaced by a build.
  [ "$(sha256 "$dir/$asset")" = "$(cut -d' ' -f1 <"$dir/$asset.sha256")" ] ||
    die "$asset does not match its published SHA-256"
  case "$asset" in
    *.zip) (cd "$dir" && { unzip -oq "$asset" || 7z x -y "$asset" >/dev/null; }) ;;
    *) tar -xzf "$dir/$asset" -C "$dir" ;;
  esac
  echo "$dir/$name" >>"${GITHUB_PATH:-/dev/null}"
  echo "installed=true" >>"${GITHUB_OUTPUT:-/dev/null}"
}

# No release binary: the action's own source, or the version's tag of its repository.
build() {
  if [ -z "${INPUT_VERSION:-}" ]; then
    cargo install --locked --path "$here/.."
  else
    cargo install --locked --git "${GITHUB_SERVER_URL:-https://github.com}/$ACTION_REPO" --tag "v$(version)" agentmeter
  fi
}

# Create or update the one comment that holds the marker: PATCH it if there is one, else POST.
comment() {
  local api="repos/$GITHUB_REPOSITORY/issues" id
  # Called as a condition, so set -e is off here: a failed listing must not lead to a POST.
  id=$(gh api --paginate "$api/$PR_NUMBER/comments" |
    jq -rs --arg m "$marker" 'add // [] | map(select((.body // "") | contains($m))) | .[0].id // empty') ||
    return 1
  if [ -n "$id" ]; then
    jq -n --rawfile b "$body" '{body: $b}' | gh api --method PATCH "$api/comments/$id" --input - >/dev/null
  else
    jq -n --rawfile b "$body" '{body: $b}' | gh api --method POST "$api/$PR_NUMBER/comments" --input - >/dev/null
  fi
}

check() {
  local bin=${AGENTMETER_BIN:-agentmeter} paths code=0
  [ -n "${INPUT_BASELINE:-}" ] || die "INPUT_BASELINE: the baseline file is required"
  read -ra paths <<<"${INPUT_PATHS//$'\n'/ }"
  [ "${#paths[@]}" -gt 0 ] || die "INPUT_PATHS: give the run's exports"
  boolean per-task "${INPUT_PER_TASK:=false}"
  boolean comment "${INPUT_COMMENT:=true}"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  body="$tmp/body.md"

  local args=(check "${paths[@]}" --baseline "$INPUT_BASELINE" --comment-file "$tmp/check.md")
  [ -z "${INPUT_MAX_INCREASE:-}" ] || args+=(--max-increase "$INPUT_MAX_INCREASE")
  [ -z "${INPUT_MAX_INCREASE_USD:-}" ] || args+=(--max-increase-usd "$INPUT_MAX_INCREASE_USD")
  [ -z "${INPUT_BUDGET:-}" ] || args+=(--budget "$INPUT_BUDGET")
  [ -z "${INPUT_CONTRACT:-}" ] || args+=(--contract "$INPUT_CONTRACT")
  [ "$INPUT_PER_TASK" = false ] || args+=(--per-task)

  # The summary is appended here, once, whether check wrote one or failed to run.
  env -u GITHUB_STEP_SUMMARY "$bin" "${args[@]}" 2>"$tmp/stderr" || code=$?
  cat "$tmp/stderr" >&2
  {
    echo "$marker"
    if [ -s "$tmp/check.md" ]; then
      # agentmeter starts its comment with the marker (older releases did not): once.
      if [ "$(head -n 1 "$tmp/check.md")" = "$marker" ]; then
        tail -n +2 "$tmp/check.md"
      else
        cat "$tmp/check.md"
      fi
    else
      printf '## agentmeter cost check: error\n\nagentmeter check exited with %s:\n\n```\n' "$code"
      tail -n 20 "$tmp/stderr"
      printf '```\n'
    fi
  } >"$body"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    tail -n +2 "$body" >>"$GITHUB_STEP_SUMMARY"
  fi

  if [ "$INPUT_COMMENT" = true ]; then
    if [ -z "${PR_NUMBER:-}" ]; then
      echo "not a pull request: no comment" >&2
    elif ! comment; then
      # The gate's verdict stands; a missing comment is a warning (e.g. a fork's read-only token).
      echo "::warning::agentmeter: the PR comment could not be written"
    fi
  fi
  return "$code"
}

case "${1:-check}" in
  install) install ;;
  build) build ;;
  check) check ;;
  *) die "usage: cost-check.sh [install|build|check]" ;;
esac
