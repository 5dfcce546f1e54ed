//! agentmeter against ccusage on one generated Claude Code transcript tree (run:
//! `cargo bench --bench vs_ccusage`).
//!
//! 1. Generates, once, streamed and deterministic, `bench-data/cc-tree/projects/<project>/
//!    <session>.jsonl`: 1,000 projects (`-home-user-proj0042`), 3-8 sessions each, about 1 GB
//!    in all, over 60 days (UTC). Lines have the shapes Claude Code writes and ccusage parses
//!    (compact JSON, so ccusage's `"usage":{` pre-filter sees them): summaries, user prompts,
//!    tool results (most of the bytes), and assistant lines with `message.usage` (5m/1h cache
//!    writes, sometimes `server_tool_use`), `message.id`, `requestId`, `isSidechain`. With the
//!    traps: every request is written as 2-3 streaming snapshots with the same `message.id`
//!    and `requestId`, where only the last has the final `output_tokens`; resumed sessions
//!    that start with a copy of an earlier session's last lines; Task subagents (sidechain
//!    requests with ids of their own) whose result carries a `usage` object in
//!    `toolUseResult`; `/btw` sidechain replays (same `message.id`, new `requestId`, more
//!    tokens); sidechain copies under the same key with more tokens; `<synthetic>` and
//!    `isApiErrorMessage` lines (model `<synthetic>`, zero usage, as Claude Code writes them).
//!    The generator also writes what the totals must be (`expected.tsv`: each request once, on
//!    the day of its final snapshot). The tree is reused while its `.generator` marker matches.
//! 2. Installs ccusage from the npm registry into `bench-data/ccusage/` (once; delete the folder
//!    to refresh). If the version's native package for this platform is not on the registry,
//!    `latest` falls back to the newest version that has one, and says so. The native binary
//!    is timed directly, so that Node start-up is not counted; the `node_modules/.bin/ccusage`
//!    script (what `npx ccusage` runs) is timed too.
//! 3. Runs `agentmeter meter <tree>/projects --group-by day,model --format json --tz UTC` (the
//!    release binary) and `ccusage daily --offline --json --timezone UTC` (TZ=UTC,
//!    CLAUDE_CONFIG_DIR=<tree>, HOME=an empty folder so that no other agent's logs are read),
//!    and checks that the token totals per day and model are identical: input, output, cache
//!    writes (ccusage's `cacheCreationTokens` = agentmeter's `cache_write_5m + cache_write_1h`)
//!    and cache reads, model ids mapped to canonical ids by the aliases in
//!    `pricing/anthropic.toml`. Both are also checked against the generator's totals (and
//!    agentmeter's 5m/1h split too). Outputs are kept in `bench-data/out/vs_ccusage-*.json`.
//! 4. Times each (best of the runs, page cache warm; wall time, CPU time and peak RSS from
//!    `wait4`) and prints a markdown table with the machine and the date.
//!
//! Environment (invalid values are an error):
//!
//! - AGENTMETER_VS_CCUSAGE_PROJECTS: number of projects, default 1000.
//! - AGENTMETER_VS_CCUSAGE_MB: size of the tree in MB (10^6 bytes), default 1000.
//! - AGENTMETER_VS_CCUSAGE_RUNS: timed runs of each tool, best reported, default 3.
//! - AGENTMETER_VS_CCUSAGE_VERSION: the npm version of ccusage to install, default `latest`.
//! - AGENTMETER_VS_CCUSAGE_NODE: 1 (default) also times the Node bin script, 0 skips it.
//!
//! Small trial run: AGENTMETER_VS_CCUSAGE_PROJECTS=20 AGENTMETER_VS_CCUSAGE_MB=20 cargo bench
//! --bench vs_ccusage (a tree of other dimensions goes to `bench-data/cc-tree-<P>p-<MB>mb/`).
//! Exit status 1 if the token totals differ.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod common;
use agentmeter::money::count as int;
use common::{env_or, machine, Rng};

/// Bump when the generated tree changes: a tree with another marker is generated again.
const GEN_VERSION: &str = "vs-ccusage-tree-2";

const MODELS: [&str; 4] = [
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-1-20250805",
    "claude-haiku-4-5-20251001",
    "claude-sonnet-4-20250514",
];
/// Cumulative weights (of 100) of each model as a session's main model.
const MODEL_WEIGHTS: [u64; 4] = [55, 70, 85, 100];
const HAIKU: usize = 2;
const VERSIONS: [&str; 4] = ["2.0.8", "2.0.14", "2.0.22", "2.0.31"];
const BRANCHES: [&str; 4] = ["main", "main", "feature/usage-report", "fix/flaky-test"];
const TOOLS: [&str; 6] = ["Bash", "Read", "Edit", "Grep", "Glob", "Write"];

/// 2026-09-01T00:00:00Z; sessions start within the 60 days from there.
const WINDOW_START_MS: i64 = 1_788_220_800_000;
const WINDOW_DAYS: i64 = 60;
const DAY_MS: i64 = 86_400_000;

/// Words of the generated text, already JSON-escaped: mostly plain, with the quotes,
/// backslashes, newlines and non-ASCII text that real transcripts carry (and "usage" in text).
const WORDS: [&str; 40] = [
    "the",
    "fn",
    "let",
    "result",
    "error",
    "test",
    "src/lib.rs",
    "cargo",
    "build",
    "of",
    "and",
    "value",
    "return",
    "impl",
    "struct",
    "match",
    "usage",
    r#"\"usage\": 42"#,
    "config",
    "parse",
    "line",
    "file",
    "=>",
    "{",
    "}",
    "();",
    r"\n",
    r"\n    ",
    r"\t",
    r#"\"quoted\""#,
    r"C:\\Users\\dev",
    "café",
    "日本語",
    "—",
    "Zürich",
    "naïve",
    "ok",
    "warning:",
    "tokens",
    "0x1f",
];

/// Token totals: input, output, 5m cache writes, 1h cache writes, cache reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tok {
    input: u64,
    output: u64,
    w5m: u64,
    w1h: u64,
    read: u64,
}

impl Tok {
    fn add(&mut self, o: &Tok) {
        self.input += o.input;
        self.output += o.output;
        self.w5m += o.w5m;
        self.w1h += o.w1h;
        self.read += o.read;
    }
    fn writes(&self) -> u64 {
        self.w5m + self.w1h
    }
    /// What ccusage reports (5m and 1h writes together).
    fn four(&self) -> [u64; 4] {
        [self.input, self.output, self.writes(), self.read]
    }
}

/// Totals per (UTC day, model id as written).
type Totals = BTreeMap<(String, String), Tok>;

/// What the generated tree holds (kept in its marker file).
#[derive(Clone, Copy, Default)]
struct Counts {
    files: u64,
    bytes: u64,
    lines: u64,
    /// Lines with `"usage":{` in an assistant message (every snapshot and copy).
    usage_lines: u64,
    /// Requests as billed: each once.
    requests: u64,
    /// Snapshot lines before a request's final one (fewer output tokens).
    early_snapshots: u64,
    /// Requests of Task subagents (sidechain, own ids).
    subagent_requests: u64,
    /// `/btw` replays: sidechain, same message id, new request id, more tokens.
    replays: u64,
    /// Sidechain copies under the same (message id, request id), more tokens.
    sidechain_copies: u64,
    /// Sessions that start with a copy of an earlier session's last lines, and those lines.
    resumed_sessions: u64,
    resumed_lines: u64,
    synthetic: u64,
    api_errors: u64,
    /// User lines whose `toolUseResult` has a `usage` object (Task results).
    tool_results_with_usage: u64,
    /// Requests with web searches, and with 1h cache writes.
    search_requests: u64,
    requests_1h: u64,
}

impl Counts {
    const NAMES: [&'static str; 16] = [
        "files",
        "bytes",
        "lines",
        "usage_lines",
        "requests",
        "early_snapshots",
        "subagent_requests",
        "replays",
        "sidechain_copies",
        "resumed_sessions",
        "resumed_lines",
        "synthetic",
        "api_errors",
        "tool_results_with_usage",
        "search_requests",
        "requests_1h",
    ];

    fn field(&mut self, i: usize) -> &mut u64 {
        let f = [
            &mut self.files,
            &mut self.bytes,
            &mut self.lines,
            &mut self.usage_lines,
            &mut self.requests,
            &mut self.early_snapshots,
            &mut self.subagent_requests,
            &mut self.replays,
            &mut self.sidechain_copies,
            &mut self.resumed_sessions,
            &mut self.resumed_lines,
            &mut self.synthetic,
            &mut self.api_errors,
            &mut self.tool_results_with_usage,
            &mut self.search_requests,
            &mut self.requests_1h,
        ];
        f.into_iter().nth(i).unwrap()
    }

    fn merge(&mut self, o: &Counts) {
        let mut o = *o;
        for i in 0..Self::NAMES.len() {
            *self.field(i) += *o.field(i);
        }
    }

    fn to_text(mut self) -> String {
        let mut s = String::new();
        for (i, name) in Self::NAMES.iter().enumerate() {
            let _ = writeln!(s, "{name}={}", *self.field(i));
        }
        s
    }

    fn from_text(text: &str) -> Counts {
        let mut c = Counts::default();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                if let (Some(i), Ok(v)) = (Self::NAMES.iter().position(|n| *n == k), v.parse()) {
                    *c.field(i) = v;
                }
            }
        }
        c
    }
}

#[derive(Default)]
struct Stats {
    c: Counts,
    expected: HashMap<(i64, usize), Tok>,
}

impl Stats {
    fn merge(&mut self, o: Stats) {
        self.c.merge(&o.c);
        for (k, v) in o.expected {
            self.expected.entry(k).or_default().add(&v);
        }
    }
}

fn civil(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).expect("timestamp in range")
}

fn day_of(ms: i64) -> String {
    civil(ms).format("%Y-%m-%d").to_string()
}

/// One session file being written.
struct Session<'a> {
    rng: &'a mut Rng,
    stats: &'a mut Stats,
    out: BufWriter<File>,
    line: String,
    written: u64,
    session_id: String,
    cwd: String,
    version: &'static str,
    branch: &'static str,
    ms: i64,
    parent: Option<String>,
    /// Lines kept for a later session that resumes this one.
    tail: Vec<String>,
}

/// Context of the main conversation or of a subagent: what is cached and what is new.
struct Ctx {
    model: usize,
    sidechain: bool,
    ttl_1h: bool,
    cached: u64,
    fresh: u64,
}

impl Session<'_> {
    fn uuid(&mut self) -> String {
        uuid(self.rng)
    }

    fn base62(&mut self, prefix: &str, n: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut s = String::with_capacity(prefix.len() + n);
        s.push_str(prefix);
        for _ in 0..n {
            s.push(A[self.rng.below(62) as usize] as char);
        }
        s
    }

    fn advance(&mut self, lo_ms: u64, hi_ms: u64) {
        self.ms += self.rng.range(lo_ms, hi_ms) as i64;
    }

    fn ts(&self) -> String {
        civil(self.ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    /// Append about `bytes` bytes of escaped text to the line.
    fn text(&mut self, bytes: u64) {
        let end = self.line.len() + bytes as usize;
        while self.line.len() < end {
            self.line
                .push_str(WORDS[self.rng.below(WORDS.len() as u64) as usize]);
            self.line.push(' ');
        }
    }

    /// `{"parentUuid":..,"isSidechain":..,"userType":..,"cwd":..,"sessionId":..,"version":..,"gitBranch":..,`
    fn head(&mut self, sidechain: bool) {
        self.line.clear();
        let parent = match &self.parent {
            Some(p) => format!("\"{p}\""),
            None => "null".to_string(),
        };
        let _ = write!(
            self.line,
            r#"{{"parentUuid":{parent},"isSidechain":{sidechain},"userType":"external","cwd":"{}","sessionId":"{}","version":"{}","gitBranch":"{}","#,
            self.cwd, self.session_id, self.version, self.branch
        );
    }

    /// `"uuid":..,"timestamp":..}` and the line out.
    fn tail_and_flush(&mut self, keep: bool) {
        let uuid = self.uuid();
        let ts = self.ts();
        let _ = write!(self.line, r#","uuid":"{uuid}","timestamp":"{ts}"}}"#);
        self.parent = Some(uuid);
        self.flush(keep);
    }

    fn flush(&mut self, keep: bool) {
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes()).unwrap();
        self.written += self.line.len() as u64;
        self.stats.c.lines += 1;
        if keep {
            if self.tail.len() == 12 {
                self.tail.remove(0);
            }
            self.tail.push(self.line.clone());
        }
    }

    fn summary(&mut self) {
        self.line.clear();
        self.line.push_str(r#"{"type":"summary","summary":""#);
        let n = self.rng.range(20, 80);
        self.text(n);
        let leaf = self.uuid();
        let _ = write!(self.line, r#"","leafUuid":"{leaf}"}}"#);
        self.flush(false);
    }

    fn prompt(&mut self, sidechain: bool, bytes: u64) {
        self.advance(2_000, 90_000);
        self.head(sidechain);
        self.line
            .push_str(r#""type":"user","message":{"role":"user","content":""#);
        self.text(bytes);
        self.line.push_str(r#""}"#);
        self.tail_and_flush(true);
    }

    /// A tool result of about `bytes` bytes (twice: in the message and in `toolUseResult`);
    /// its tokens are new context for the next request.
    fn tool_result(&mut self, ctx: &mut Ctx, tool_id: &str, bytes: u64) {
        self.advance(200, 30_000);
        self.head(ctx.sidechain);
        let _ = write!(
            self.line,
            r#""type":"user","message":{{"role":"user","content":[{{"tool_use_id":"{tool_id}","type":"tool_result","content":""#
        );
        let start = self.line.len();
        self.text(bytes);
        let body = self.line[start..].to_string();
        let _ = write!(
            self.line,
            r#"","is_error":false}}]}},"toolUseResult":{{"stdout":"{body}","stderr":"","interrupted":false,"isImage":false}}"#
        );
        self.tail_and_flush(true);
        ctx.fresh += bytes / 4 + self.rng.range(10, 60);
    }

    fn usage(&mut self, t: &Tok, searches: u64) {
        let _ = write!(
            self.line,
            r#""usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"cache_creation":{{"ephemeral_5m_input_tokens":{},"ephemeral_1h_input_tokens":{}}},"output_tokens":{},"#,
            t.input,
            t.writes(),
            t.read,
            t.w5m,
            t.w1h,
            t.output
        );
        if searches > 0 {
            let _ = write!(
                self.line,
                r#""server_tool_use":{{"web_search_requests":{searches},"web_fetch_requests":0}},"#
            );
        }
        self.line.push_str(r#""service_tier":"standard"}"#);
    }

    /// One assistant line: a snapshot of request (`msg`, `req`) with content block `block`.
    #[allow(clippy::too_many_arguments)]
    fn assistant_line(
        &mut self,
        sidechain: bool,
        model: &str,
        msg: &str,
        req: &str,
        block: Block<'_>,
        stop: Option<&str>,
        t: &Tok,
        searches: u64,
    ) {
        self.head(sidechain);
        let _ = write!(
            self.line,
            r#""message":{{"id":"{msg}","type":"message","role":"assistant","model":"{model}","content":["#
        );
        match block {
            Block::Thinking(n) => {
                self.line.push_str(r#"{"type":"thinking","thinking":""#);
                self.text(n);
                let sig = self.base62("", 344);
                let _ = write!(self.line, r#"","signature":"{sig}"}}"#);
            }
            Block::Text(n) => {
                self.line.push_str(r#"{"type":"text","text":""#);
                self.text(n);
                self.line.push_str(r#""}"#);
            }
            Block::Tool(id, name) => {
                let _ = write!(
                    self.line,
                    r#"{{"type":"tool_use","id":"{id}","name":"{name}","input":{{"command":""#
                );
                let n = self.rng.range(20, 200);
                self.text(n);
                self.line.push_str(r#"","description":""#);
                let n = self.rng.range(10, 60);
                self.text(n);
                self.line.push_str(r#""}}"#);
            }
        }
        let stop = stop.map_or("null".to_string(), |s| format!("\"{s}\""));
        let _ = write!(self.line, r#"],"stop_reason":{stop},"stop_sequence":null,"#);
        self.usage(t, searches);
        let _ = write!(self.line, r#"}},"requestId":"{req}","type":"assistant""#);
        self.tail_and_flush(true);
        self.stats.c.usage_lines += 1;
    }

    /// One model request written as 2-3 streaming snapshots; returns the tool it called, if
    /// any. Counts it, once, in the expected totals.
    fn request(&mut self, ctx: &mut Ctx, tool: bool) -> (Option<(String, &'static str)>, Tok) {
        let model = MODELS[ctx.model];
        let msg = self.base62("msg_01", 22);
        let req = self.base62("req_011C", 21);
        // Usage: what is new is written to the cache, the rest read from it.
        let miss = self.rng.chance(40);
        let input = if miss {
            self.rng.range(100, 5_000)
        } else {
            self.rng.range(1, 12)
        };
        let writes = ctx.fresh + self.rng.range(0, 400);
        let (w5m, w1h) = if ctx.ttl_1h {
            (0, writes)
        } else if self.rng.chance(30) {
            let h = writes / 3;
            (writes - h, h)
        } else {
            (writes, 0)
        };
        let thinking = self.rng.chance(300);
        let output = if thinking {
            self.rng.range(200, 4_000)
        } else {
            self.rng.range(20, 1_500)
        };
        let searches = if self.rng.chance(30) {
            self.rng.range(1, 3)
        } else {
            0
        };
        let fin = Tok {
            input,
            output,
            w5m,
            w1h,
            read: ctx.cached,
        };
        ctx.cached += writes + output;
        ctx.fresh = 0;
        let tool_call = tool.then(|| {
            let id = self.base62("toolu_01", 22);
            let name = if !ctx.sidechain && self.rng.chance(50) {
                "Task"
            } else {
                TOOLS[self.rng.below(TOOLS.len() as u64) as usize]
            };
            (id, name)
        });
        // The content blocks, one line each.
        let mut blocks: Vec<Block> = Vec::with_capacity(3);
        if thinking {
            blocks.push(Block::Thinking(self.rng.range(200, 2_000)));
        }
        blocks.push(Block::Text(self.rng.range(40, 800)));
        match &tool_call {
            Some((id, name)) => blocks.push(Block::Tool(id, name)),
            None if blocks.len() < 2 => blocks.push(Block::Text(self.rng.range(40, 400))),
            None => {}
        }
        let last = blocks.len() - 1;
        let mut prev_out = 0;
        let mut final_ms = self.ms;
        self.advance(1_500, 20_000);
        for (i, block) in blocks.into_iter().enumerate() {
            let (t, stop) = if i == last {
                let stop = if tool { "tool_use" } else { "end_turn" };
                (fin, Some(stop))
            } else {
                // An earlier snapshot: fewer output tokens than the final one.
                let out = (prev_out + 1 + self.rng.below(output / 2)).min(output - 1);
                prev_out = out;
                (Tok { output: out, ..fin }, None)
            };
            final_ms = self.ms;
            self.assistant_line(ctx.sidechain, model, &msg, &req, block, stop, &t, searches);
            self.advance(30, 3_000);
        }
        let c = &mut self.stats.c;
        c.requests += 1;
        c.early_snapshots += last as u64;
        c.subagent_requests += ctx.sidechain as u64;
        c.search_requests += (searches > 0) as u64;
        c.requests_1h += (w1h > 0) as u64;
        self.stats
            .expected
            .entry((final_ms.div_euclid(DAY_MS), ctx.model))
            .or_default()
            .add(&fin);
        if !ctx.sidechain {
            // `/btw` replay: the message again in a sidechain, a new request id, more cache
            // reads (the parent's). Not billed again.
            if self.rng.chance(10) {
                let replay = self.base62("req_011C", 21);
                let t = Tok {
                    read: fin.read + 50_000,
                    ..fin
                };
                self.advance(1_000, 60_000);
                self.stats.c.replays += 1;
                self.assistant_line(
                    true,
                    model,
                    &msg,
                    &replay,
                    Block::Text(60),
                    Some("end_turn"),
                    &t,
                    0,
                );
            }
            // A sidechain copy under the same key with more tokens: the main copy counts.
            if self.rng.chance(10) {
                let t = Tok {
                    output: fin.output + 100,
                    ..fin
                };
                self.advance(100, 5_000);
                self.stats.c.sidechain_copies += 1;
                self.assistant_line(
                    true,
                    model,
                    &msg,
                    &req,
                    Block::Text(60),
                    Some("end_turn"),
                    &t,
                    0,
                );
            }
        }
        (tool_call, fin)
    }

    /// The result of a Task: the subagent's answer, and (in `toolUseResult`) its usage, which
    /// is not a request of its own.
    fn task_result(&mut self, ctx: &mut Ctx, tool_id: &str, bytes: u64, sub: &Tok) {
        self.advance(200, 30_000);
        self.head(ctx.sidechain);
        let _ = write!(
            self.line,
            r#""type":"user","message":{{"role":"user","content":[{{"tool_use_id":"{tool_id}","type":"tool_result","content":[{{"type":"text","text":""#
        );
        let start = self.line.len();
        self.text(bytes);
        let body = self.line[start..].to_string();
        let ms = self.rng.range(5_000, 300_000);
        let tools = self.rng.range(1, 12);
        let _ = write!(
            self.line,
            r#""}}]}}]}},"toolUseResult":{{"status":"completed","content":[{{"type":"text","text":"{body}"}}],"totalDurationMs":{ms},"totalTokens":{},"totalToolUseCount":{tools},"#,
            sub.input + sub.output + sub.writes() + sub.read
        );
        self.usage(sub, 0);
        self.line.push('}');
        self.tail_and_flush(true);
        self.stats.c.tool_results_with_usage += 1;
        ctx.fresh += bytes / 4 + self.rng.range(10, 60);
    }
}

#[derive(Clone, Copy)]
enum Block<'a> {
    Thinking(u64),
    Text(u64),
    Tool(&'a str, &'a str),
}

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next();
    let b = rng.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

impl Session<'_> {
    /// A line Claude Code writes itself (model `<synthetic>`, zero usage, no request id): "No
    /// response requested.", or a failed request (`isApiErrorMessage: true`).
    fn synthetic(&mut self, api_error: bool) {
        self.advance(100, 5_000);
        self.head(false);
        let msg = self.uuid();
        let text = if api_error {
            r#"API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"#
        } else {
            "No response requested."
        };
        let _ = write!(
            self.line,
            r#""message":{{"id":"{msg}","model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"server_tool_use":{{"web_search_requests":0}},"service_tier":null,"cache_creation":{{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0}}}},"content":[{{"type":"text","text":"{text}"}}]}},"type":"assistant","isApiErrorMessage":{api_error}"#
        );
        self.tail_and_flush(true);
        self.stats.c.usage_lines += 1;
        if api_error {
            self.stats.c.api_errors += 1;
        } else {
            self.stats.c.synthetic += 1;
        }
    }

    /// A Task subagent: sidechain requests of its own (own message and request ids). Returns
    /// the usage of its last request.
    fn subagent(&mut self, main_model: usize) -> Tok {
        let mut sub = Ctx {
            model: if self.rng.chance(600) {
                HAIKU
            } else {
                main_model
            },
            sidechain: true,
            ttl_1h: false,
            cached: 0,
            fresh: self.rng.range(6_000, 12_000),
        };
        let n = self.rng.range(100, 800);
        self.prompt(true, n);
        let requests = self.rng.range(2, 5);
        let mut last = Tok::default();
        for i in 0..requests {
            let (call, usage) = self.request(&mut sub, i + 1 < requests);
            last = usage;
            if let Some((id, _)) = call {
                let n = self.rng.range(200, 5_000);
                self.tool_result(&mut sub, &id, n);
            }
        }
        last
    }

    /// Turns until the file has `target` bytes.
    fn run(&mut self, target: u64, main_model: usize, resumed: Option<&[String]>) {
        if let Some(lines) = resumed {
            // A resumed session starts with a copy of the earlier session's last lines.
            self.stats.c.resumed_sessions += 1;
            self.stats.c.resumed_lines += lines.len() as u64;
            for l in lines {
                self.out.write_all(l.as_bytes()).unwrap();
                self.written += l.len() as u64;
                self.stats.c.lines += 1;
                if l.contains(r#""usage":{"#) {
                    self.stats.c.usage_lines += 1;
                }
            }
        } else if self.rng.chance(300) {
            for _ in 0..self.rng.range(1, 2) {
                self.summary();
            }
        }
        let mut ctx = Ctx {
            model: main_model,
            sidechain: false,
            ttl_1h: self.rng.chance(120),
            cached: 0,
            fresh: self.rng.range(12_000, 22_000),
        };
        while self.written < target {
            if self.rng.chance(5) {
                self.synthetic(true);
            }
            let n = self.rng.range(30, 600);
            self.prompt(false, n);
            ctx.fresh += n / 4;
            let requests = self.rng.range(1, 6);
            for i in 0..requests {
                let tool = i + 1 < requests || self.rng.chance(150);
                if let (Some((id, name)), _) = self.request(&mut ctx, tool) {
                    if name == "Task" {
                        let sub = self.subagent(ctx.model);
                        let n = self.rng.range(300, 3_000);
                        self.task_result(&mut ctx, &id, n, &sub);
                    } else {
                        let n = self.rng.range(200, 9_000);
                        self.tool_result(&mut ctx, &id, n);
                    }
                }
                if self.written >= target {
                    // The user stops here.
                    break;
                }
            }
            if self.rng.chance(7) {
                self.synthetic(false);
            }
            if ctx.cached > 150_000 {
                // Compaction: a summary of the conversation replaces it.
                let n = self.rng.range(1_000, 4_000);
                self.prompt(false, n);
                ctx.cached = 0;
                ctx.fresh = self.rng.range(15_000, 30_000);
            }
            if self.rng.chance(50) {
                ctx.model = pick_model(self.rng);
            }
            self.advance(10_000, 1_200_000);
            if self.rng.chance(30) {
                self.advance(3_600_000, 8 * 3_600_000);
            }
        }
        self.out.flush().unwrap();
    }
}

fn pick_model(rng: &mut Rng) -> usize {
    let r = rng.below(100);
    MODEL_WEIGHTS.iter().position(|&w| r < w).unwrap()
}

/// One project folder: 3-8 sessions of various sizes, `target` bytes in all.
fn gen_project(projects_dir: &Path, p: usize, target: u64) -> Stats {
    let mut rng = Rng::new(p as u64);
    let mut stats = Stats::default();
    let dir = projects_dir.join(format!("-home-user-proj{p:04}"));
    fs::create_dir_all(&dir).unwrap();
    let cwd = format!("/home/user/proj{p:04}");
    let sessions = rng.range(3, 8) as usize;
    let weights: Vec<u64> = (0..sessions).map(|_| rng.range(1, 10)).collect();
    let total: u64 = weights.iter().sum();
    let mut prev: Option<(Vec<String>, i64)> = None;
    for w in weights {
        let session_id = uuid(&mut rng);
        let file = File::create(dir.join(format!("{session_id}.jsonl"))).unwrap();
        let resume = prev.is_some() && rng.chance(150);
        let start = match &prev {
            Some((_, end)) if resume => end + rng.range(60_000, 2 * DAY_MS as u64) as i64,
            _ => WINDOW_START_MS + rng.below(((WINDOW_DAYS - 3) * DAY_MS) as u64) as i64,
        };
        let version = VERSIONS[rng.below(4) as usize];
        let branch = BRANCHES[rng.below(4) as usize];
        let model = pick_model(&mut rng);
        let mut s = Session {
            rng: &mut rng,
            stats: &mut stats,
            out: BufWriter::with_capacity(1 << 18, file),
            line: String::with_capacity(1 << 16),
            written: 0,
            session_id,
            cwd: cwd.clone(),
            version,
            branch,
            ms: start,
            parent: None,
            tail: Vec::new(),
        };
        let copied = prev.as_ref().filter(|_| resume).map(|(t, _)| t.as_slice());
        s.run(target * w / total, model, copied);
        let (written, tail, end) = (s.written, std::mem::take(&mut s.tail), s.ms);
        stats.c.files += 1;
        stats.c.bytes += written;
        prev = Some((tail, end));
    }
    stats
}

struct Tree {
    root: PathBuf,
    projects: usize,
    c: Counts,
    /// What every tool must report: each request once (day, model as written).
    expected: Totals,
}

fn ensure_tree(root: &Path, projects: usize, target: u64) -> Tree {
    let marker = root.join(".generator");
    let want = format!("{GEN_VERSION} projects={projects} bytes={target}");
    if let Ok(m) = fs::read_to_string(&marker) {
        if m.lines().next() == Some(want.as_str()) {
            println!("tree: reusing {} ({want})", root.display());
            return Tree {
                root: root.to_path_buf(),
                projects,
                c: Counts::from_text(&m),
                expected: read_expected(&root.join("expected.tsv")),
            };
        }
    }
    if root.exists() {
        fs::remove_dir_all(root).unwrap();
    }
    let projects_dir = root.join("projects");
    fs::create_dir_all(&projects_dir).unwrap();
    println!(
        "tree: generating {} ({projects} projects, {} MB) ...",
        root.display(),
        sep(target as f64 / 1e6)
    );
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_project = target / projects as u64;
    let mut stats = Stats::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let dir = &projects_dir;
                scope.spawn(move || {
                    let mut s = Stats::default();
                    for p in (t..projects).step_by(threads) {
                        s.merge(gen_project(dir, p, per_project));
                    }
                    s
                })
            })
            .collect();
        for h in handles {
            stats.merge(h.join().unwrap());
        }
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "tree: {} files, {} MB in {secs:.1} s ({} MB/s)",
        int(stats.c.files),
        sep(stats.c.bytes as f64 / 1e6),
        sep(stats.c.bytes as f64 / 1e6 / secs)
    );
    let mut expected = Totals::new();
    for ((day, m), t) in &stats.expected {
        expected
            .entry((day_of(day * DAY_MS), MODELS[*m].to_string()))
            .or_default()
            .add(t);
    }
    let mut tsv =
        String::from("day\tmodel\tinput\toutput\tcache_write_5m\tcache_write_1h\tcache_read\n");
    for ((day, model), t) in &expected {
        let _ = writeln!(
            tsv,
            "{day}\t{model}\t{}\t{}\t{}\t{}\t{}",
            t.input, t.output, t.w5m, t.w1h, t.read
        );
    }
    fs::write(root.join("expected.tsv"), tsv).unwrap();
    // The marker last: a tree without it (interrupted) is generated again.
    fs::write(&marker, format!("{want}\n{}", stats.c.to_text())).unwrap();
    Tree {
        root: root.to_path_buf(),
        projects,
        c: stats.c,
        expected,
    }
}

fn read_expected(path: &Path) -> Totals {
    let text = fs::read_to_string(path).unwrap();
    let mut out = Totals::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let n = |i: usize| f[i].parse::<u64>().unwrap();
        out.insert(
            (f[0].to_string(), f[1].to_string()),
            Tok {
                input: n(2),
                output: n(3),
                w5m: n(4),
                w1h: n(5),
                read: n(6),
            },
        );
    }
    out
}

/// Read every file once, so that both tools start with a warm page cache.
fn warm(dir: &Path) {
    let mut buf = vec![0u8; 1 << 20];
    for project in fs::read_dir(dir).unwrap() {
        for f in fs::read_dir(project.unwrap().path()).unwrap() {
            let mut f = File::open(f.unwrap().path()).unwrap();
            while f.read(&mut buf).unwrap() > 0 {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ccusage from the npm registry

struct Ccusage {
    version: String,
    /// The native binary (timed directly).
    bin: PathBuf,
    /// `node_modules/.bin/ccusage`: the Node script `npx ccusage` runs, which spawns `bin`.
    script: PathBuf,
    note: Option<String>,
}

fn native_package() -> Option<String> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        "windows" => "win32",
        _ => return None,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        _ => return None,
    };
    Some(format!("@ccusage/ccusage-{os}-{arch}"))
}

fn npm_install(dir: &Path, spec: &str) -> Result<(), String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    println!(
        "ccusage: npm install --prefix {} ccusage@{spec}",
        dir.display()
    );
    let out = Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(dir)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .arg(format!("ccusage@{spec}"))
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "npm install ccusage@{spec} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

fn installed_version(dir: &Path) -> Option<String> {
    let p = dir.join("node_modules/ccusage/package.json");
    let v: serde_json::Value = serde_json::from_slice(&fs::read(p).ok()?).ok()?;
    v["version"].as_str().map(str::to_string)
}

fn ensure_ccusage(dir: &Path, spec: &str) -> Result<Ccusage, String> {
    let pkg = native_package().ok_or("no native ccusage package for this platform")?;
    let bin = dir.join("node_modules").join(&pkg).join("bin/ccusage");
    let script = dir.join("node_modules/.bin/ccusage");
    let spec_file = dir.join(".bench-spec");
    let note_file = dir.join(".bench-note");
    let cached = bin.exists() && fs::read_to_string(&spec_file).ok().as_deref() == Some(spec);
    if cached {
        println!(
            "ccusage: using the install in {} (ccusage@{spec}; delete the folder to refresh)",
            dir.display()
        );
    } else {
        npm_install(dir, spec)?;
        if !bin.exists() {
            let v = installed_version(dir).unwrap_or_else(|| "?".into());
            let why = format!(
                "ccusage@{v} was installed without its native package {pkg}@{v}, which the \
                 registry does not have"
            );
            if spec != "latest" {
                return Err(why);
            }
            let out = Command::new("npm")
                .args(["view", &pkg, "version"])
                .output()
                .map_err(|e| format!("{why}; cannot run npm view: {e}"))?;
            let newest = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !out.status.success() || newest.is_empty() {
                return Err(format!("{why}; `npm view {pkg} version` found none"));
            }
            println!("ccusage: {why}; installing {newest}, the newest with a native package");
            npm_install(dir, &newest)?;
            if !bin.exists() {
                return Err(format!("{why}; ccusage@{newest} has none either"));
            }
            let note = format!(
                "ccusage@latest is {v}, but {pkg}@{v} is not on the registry, so {newest} (the \
                 newest with a native binary) was used"
            );
            fs::write(&note_file, &note).map_err(|e| e.to_string())?;
        }
        fs::write(&spec_file, spec).map_err(|e| e.to_string())?;
    }
    // The npm package ships the binary without the executable bit; the bin script sets it
    // on first run, and so do we.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    }
    let out = Command::new(&bin)
        .arg("--version")
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let version = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .last()
        .unwrap_or("?")
        .to_string();
    Ok(Ccusage {
        version,
        bin,
        script,
        note: fs::read_to_string(&note_file).ok(),
    })
}

// ---------------------------------------------------------------------------------------------
// Timing

#[derive(Clone, Copy)]
struct Run {
    secs: f64,
    cpu: f64,
    rss_kib: i64,
    /// The share of the CPUs other work kept busy just before the run.
    others: f64,
}

/// Run `cmd` (stdout and stderr to files) and wait for it with `wait4`; on failure the
/// error carries the start of its stderr.
fn timed(mut cmd: Command, stdout: &Path, stderr: &Path) -> Result<Run, String> {
    cmd.stdout(File::create(stdout).unwrap())
        .stderr(File::create(stderr).unwrap());
    let u = common::run_timed(&mut cmd).map_err(|e| {
        let err = fs::read_to_string(stderr).unwrap_or_default();
        let err: String = err.chars().take(2_000).collect();
        if err.trim().is_empty() {
            e
        } else {
            format!("{e}: {err}")
        }
    })?;
    Ok(Run {
        secs: u.secs,
        cpu: u.cpu,
        rss_kib: u.rss_kib,
        others: 0.0,
    })
}

/// Busy and total jiffies of all CPUs, from /proc/stat.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    // idle + iowait
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// Wait (up to `max_secs`) until other work keeps less than `share` of the CPUs busy over
/// half a second; returns the last share measured (0 where /proc/stat is missing).
fn wait_quiet(share: f64, max_secs: f64) -> f64 {
    let start = Instant::now();
    loop {
        let Some((b0, t0)) = cpu_jiffies() else {
            return 0.0;
        };
        std::thread::sleep(std::time::Duration::from_millis(500));
        let Some((b1, t1)) = cpu_jiffies() else {
            return 0.0;
        };
        let busy = (b1 - b0) as f64 / (t1 - t0).max(1) as f64;
        if busy < share || start.elapsed().as_secs_f64() > max_secs {
            return busy;
        }
    }
}

/// The runs of one tool: best wall time (with that run's CPU time), highest peak RSS.
struct Timing {
    runs: usize,
    best: Run,
    max_rss_kib: i64,
}

impl Timing {
    fn of(runs: &[Run]) -> Option<Timing> {
        let best = *runs.iter().min_by(|a, b| a.secs.total_cmp(&b.secs))?;
        Some(Timing {
            runs: runs.len(),
            best,
            max_rss_kib: runs.iter().map(|r| r.rss_kib).max()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison

/// Dated model ids to canonical ids, from the aliases in pricing/anthropic.toml.
fn aliases() -> HashMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/pricing/anthropic.toml");
    let doc: toml::Table = fs::read_to_string(path).unwrap().parse().unwrap();
    let mut map = HashMap::new();
    for m in doc["model"].as_array().unwrap() {
        let id = m["id"].as_str().unwrap();
        for a in m
            .get("aliases")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            map.insert(a.as_str().unwrap().to_string(), id.to_string());
        }
    }
    map
}

fn canonical(aliases: &HashMap<String, String>, model: &str) -> String {
    aliases
        .get(model)
        .cloned()
        .unwrap_or_else(|| model.to_string())
}

fn canonical_totals(aliases: &HashMap<String, String>, t: &Totals) -> Totals {
    let mut out = Totals::new();
    for ((day, model), tok) in t {
        out.entry((day.clone(), canonical(aliases, model)))
            .or_default()
            .add(tok);
    }
    out
}

fn num(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// agentmeter's `groups.rows[]`: per (day, model) with `--group-by day,model`, or per day
/// (model `*`) with `--group-by day`.
fn agentmeter_totals(doc: &serde_json::Value) -> Result<Totals, String> {
    let rows = doc["groups"]["rows"]
        .as_array()
        .ok_or("agentmeter JSON has no groups.rows")?;
    let mut out = Totals::new();
    for r in rows {
        let (day, model) = match r.get("keys") {
            Some(k) => (
                k["day"].as_str().ok_or("row without keys.day")?.to_string(),
                k["model"].as_str().unwrap_or("*").to_string(),
            ),
            None => (
                r["key"].as_str().ok_or("row without key")?.to_string(),
                "*".to_string(),
            ),
        };
        let t = &r["tokens"];
        out.entry((day, model)).or_default().add(&Tok {
            input: num(&t["input"]),
            output: num(&t["output"]),
            w5m: num(&t["cache_write_5m"]),
            w1h: num(&t["cache_write_1h"]),
            read: num(&t["cache_read"]),
        });
    }
    Ok(out)
}

/// ccusage's `daily[].modelBreakdowns[]` (all writes in `w5m`), and its per-day totals.
fn ccusage_totals(doc: &serde_json::Value) -> Result<(Totals, Totals), String> {
    let days = doc["daily"]
        .as_array()
        .ok_or("ccusage JSON has no daily[]")?;
    let (mut by_model, mut by_day) = (Totals::new(), Totals::new());
    let tok = |v: &serde_json::Value| Tok {
        input: num(&v["inputTokens"]),
        output: num(&v["outputTokens"]),
        w5m: num(&v["cacheCreationTokens"]),
        w1h: 0,
        read: num(&v["cacheReadTokens"]),
    };
    for d in days {
        let day = d["period"]
            .as_str()
            .or(d["date"].as_str())
            .ok_or("ccusage day without period")?
            .to_string();
        by_day
            .entry((day.clone(), "*".to_string()))
            .or_default()
            .add(&tok(d));
        for m in d["modelBreakdowns"].as_array().into_iter().flatten() {
            let model = m["modelName"].as_str().unwrap_or("?").to_string();
            by_model
                .entry((day.clone(), model))
                .or_default()
                .add(&tok(m));
        }
    }
    Ok((by_model, by_day))
}

/// Per day, all models together.
fn per_day(t: &Totals) -> Totals {
    let mut out = Totals::new();
    for ((day, _), tok) in t {
        out.entry((day.clone(), "*".to_string()))
            .or_default()
            .add(tok);
    }
    out
}

/// Rows compared and the rows that differ (input, output, cache writes, cache reads; with
/// `split`, 5m and 1h writes apart).
fn compare(a: &Totals, b: &Totals, split: bool) -> (usize, Vec<String>) {
    let keys: BTreeSet<_> = a.keys().chain(b.keys()).collect();
    let mut diffs = Vec::new();
    for k in &keys {
        let (x, y) = (a.get(*k), b.get(*k));
        let (xv, yv) = (
            x.copied().unwrap_or_default(),
            y.copied().unwrap_or_default(),
        );
        let same = if split {
            xv == yv
        } else {
            xv.four() == yv.four()
        };
        if same && x.is_some() == y.is_some() {
            continue;
        }
        let mut d = format!("{} {}:", k.0, k.1);
        if x.is_none() || y.is_none() {
            let _ = write!(
                d,
                " only in {}",
                if x.is_some() {
                    "the first"
                } else {
                    "the second"
                }
            );
        }
        let names = ["input", "output", "cache writes", "cache reads"];
        let (xf, yf) = (xv.four(), yv.four());
        for i in 0..4 {
            if xf[i] != yf[i] {
                let _ = write!(
                    d,
                    " {} {} vs {} ({:+})",
                    names[i],
                    sep(xf[i] as f64),
                    sep(yf[i] as f64),
                    yf[i] as i128 - xf[i] as i128
                );
            }
        }
        if split && xv.four() == yv.four() {
            let _ = write!(
                d,
                " 5m/1h writes {}/{} vs {}/{}",
                xv.w5m, xv.w1h, yv.w5m, yv.w1h
            );
        }
        diffs.push(d);
    }
    (keys.len(), diffs)
}

/// Print a comparison; true if identical.
fn report(what: &str, a: &Totals, b: &Totals, split: bool) -> (bool, String) {
    let (rows, diffs) = compare(a, b, split);
    let line = if diffs.is_empty() {
        format!("{what}: identical ({rows} rows)")
    } else {
        format!("{what}: {} of {rows} rows differ", diffs.len())
    };
    println!("{line}");
    for d in diffs.iter().take(10) {
        println!("  {d}");
    }
    if diffs.len() > 10 {
        println!("  ... and {} more", diffs.len() - 10);
    }
    (diffs.is_empty(), line)
}

// ---------------------------------------------------------------------------------------------

/// "1,234.57".
fn money(x: f64) -> String {
    let cents = (x.abs() * 100.0).round() as u64;
    let sign = if x < 0.0 { "-" } else { "" };
    format!("{sign}{}.{:02}", int(cents / 100), cents % 100)
}

/// "1,235" for numbers of 100 and more, else 2 decimals.
fn sep(x: f64) -> String {
    if x < 100.0 {
        return format!("{x:.2}");
    }
    int(x.round() as u64)
}

fn main() {
    let started = Instant::now();
    let projects: usize = env_or("AGENTMETER_VS_CCUSAGE_PROJECTS", 1000);
    let mb: u64 = env_or("AGENTMETER_VS_CCUSAGE_MB", 1000);
    let runs: usize = env_or("AGENTMETER_VS_CCUSAGE_RUNS", 3);
    let node: u64 = env_or("AGENTMETER_VS_CCUSAGE_NODE", 1);
    let spec = std::env::var("AGENTMETER_VS_CCUSAGE_VERSION").unwrap_or_else(|_| "latest".into());
    if projects == 0 || mb == 0 || runs == 0 || node > 1 || spec.trim().is_empty() {
        eprintln!(
            "AGENTMETER_VS_CCUSAGE_PROJECTS, _MB and _RUNS must be at least 1, _NODE 0 or 1, \
             _VERSION not empty"
        );
        std::process::exit(2);
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-data");
    let tree_dir = if projects == 1000 && mb == 1000 {
        data.join("cc-tree")
    } else {
        data.join(format!("cc-tree-{projects}p-{mb}mb"))
    };
    let tree = ensure_tree(&tree_dir, projects, mb * 1_000_000);
    let projects_dir = tree.root.join("projects");
    let aliases = aliases();
    let expected = canonical_totals(&aliases, &tree.expected);

    let ccusage = ensure_ccusage(&data.join("ccusage"), spec.trim());
    let ccusage = match ccusage {
        Ok(c) => {
            println!(
                "ccusage {}: {} (bin script: {})",
                c.version,
                c.bin.display(),
                c.script.display()
            );
            if let Some(n) = &c.note {
                println!("ccusage: note: {n}");
            }
            Some(c)
        }
        Err(why) => {
            println!("ccusage: NOT RUN: {why}");
            None
        }
    };

    let bin = env!("CARGO_BIN_EXE_agentmeter");
    let am_version = Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let out_dir = data.join("out");
    fs::create_dir_all(&out_dir).unwrap();
    let home = data.join("ccusage-home");
    let am_out = out_dir.join("vs_ccusage-agentmeter.json");
    let cc_out = out_dir.join("vs_ccusage-ccusage.json");
    let node_out = out_dir.join("vs_ccusage-ccusage-node.json");
    let err = out_dir.join("vs_ccusage.stderr");
    let am_args = |group: &str| -> Vec<String> {
        vec![
            "meter".into(),
            projects_dir.display().to_string(),
            "--group-by".into(),
            group.into(),
            "--format".into(),
            "json".into(),
            "--tz".into(),
            "UTC".into(),
        ]
    };
    let am_cmd = |group: &str| {
        let mut c = Command::new(bin);
        c.args(am_args(group)).env("TZ", "UTC");
        c
    };
    let cc_args = ["daily", "--offline", "--json", "--timezone", "UTC"];
    let cc_cmd = |program: &Path| {
        // An empty HOME (and XDG folders in it): only the tree is read, and nothing is cached
        // between runs.
        let _ = fs::remove_dir_all(&home);
        fs::create_dir_all(&home).unwrap();
        let mut c = Command::new(program);
        c.args(cc_args)
            .env("TZ", "UTC")
            .env("CLAUDE_CONFIG_DIR", &tree.root)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("NO_COLOR", "1");
        c
    };

    println!("warming the page cache ...");
    warm(&projects_dir);
    let machine = machine();
    println!("machine: {machine}");
    // The share of the CPUs other work kept busy just before each run (we wait up to a
    // minute for it to drop under 10%).
    let quiet = || {
        let b = wait_quiet(0.10, 60.0);
        if b >= 0.10 {
            println!(
                "note: other work keeps {:.0}% of the CPUs busy; timing anyway",
                b * 100.0
            );
        }
        b
    };
    let (mut am_runs, mut cc_runs, mut node_runs) = (Vec::new(), Vec::new(), Vec::new());
    let mut cc_failed: Option<String> = None;
    for r in 1..=runs {
        let others = quiet();
        let mut a = timed(am_cmd("day,model"), &am_out, &err).unwrap_or_else(|e| panic!("{e}"));
        a.others = others;
        println!(
            "run {r}/{runs}: agentmeter {:.2} s, {:.0} MiB",
            a.secs,
            a.rss_kib as f64 / 1024.0
        );
        am_runs.push(a);
        if let (Some(c), None) = (&ccusage, &cc_failed) {
            let others = quiet();
            match timed(cc_cmd(&c.bin), &cc_out, &err) {
                Ok(mut x) => {
                    x.others = others;
                    println!(
                        "run {r}/{runs}: ccusage (native) {:.2} s, {:.0} MiB",
                        x.secs,
                        x.rss_kib as f64 / 1024.0
                    );
                    cc_runs.push(x);
                }
                Err(e) => {
                    println!("ccusage failed: {e}");
                    cc_failed = Some(e);
                    continue;
                }
            }
            if node == 1 {
                let others = quiet();
                match timed(cc_cmd(&c.script), &node_out, &err) {
                    Ok(mut x) => {
                        x.others = others;
                        println!(
                            "run {r}/{runs}: ccusage (node bin script) {:.2} s, {:.0} MiB",
                            x.secs,
                            x.rss_kib as f64 / 1024.0
                        );
                        node_runs.push(x);
                    }
                    Err(e) => println!("ccusage via its bin script failed: {e}"),
                }
            }
        }
    }

    // ---- tokens
    println!();
    let am_doc: serde_json::Value = serde_json::from_slice(&fs::read(&am_out).unwrap()).unwrap();
    let mut am = agentmeter_totals(&am_doc).unwrap_or_else(|e| panic!("{e}"));
    let by_model = am.keys().all(|(_, m)| m != "*");
    if !by_model {
        println!(
            "agentmeter's JSON has no per-(day, model) keys: comparing per-day totals \
             (`--group-by day`) instead"
        );
        let _ = timed(am_cmd("day"), &am_out, &err).unwrap_or_else(|e| panic!("{e}"));
        let doc: serde_json::Value = serde_json::from_slice(&fs::read(&am_out).unwrap()).unwrap();
        am = agentmeter_totals(&doc).unwrap_or_else(|e| panic!("{e}"));
    }
    let expected_cmp = if by_model {
        expected.clone()
    } else {
        per_day(&expected)
    };
    let mut ok = true;
    let mut summary = Vec::new();
    let cc = if cc_runs.is_empty() {
        None
    } else {
        let doc: serde_json::Value = serde_json::from_slice(&fs::read(&cc_out).unwrap()).unwrap();
        match ccusage_totals(&doc) {
            Ok((m, d)) => Some((canonical_totals(&aliases, &m), d, doc)),
            Err(e) => {
                println!("ccusage output: {e}");
                ok = false;
                None
            }
        }
    };
    let what = if by_model {
        "token totals per day and model"
    } else {
        "token totals per day (all models)"
    };
    if let Some((cc_model, cc_day, _)) = &cc {
        let cc_cmp = if by_model {
            cc_model.clone()
        } else {
            cc_day.clone()
        };
        println!("agentmeter (first) vs ccusage (second):");
        let (same, line) = report(what, &am, &cc_cmp, false);
        ok &= same;
        summary.push(format!("agentmeter vs ccusage, {line}"));
        // ccusage's day totals include lines without a model (`<synthetic>`).
        let (same, _) = report(
            "ccusage: per-day totals vs the sum of its model breakdowns",
            cc_day,
            &per_day(cc_model),
            false,
        );
        ok &= same;
        println!("generator (first) vs ccusage (second):");
        let (same, line) = report(what, &expected_cmp, &cc_cmp, false);
        ok &= same;
        summary.push(format!("generator vs ccusage, {line}"));
    }
    println!("generator (first) vs agentmeter (second), 5m and 1h writes apart:");
    let (same, line) = report(what, &expected_cmp, &am, true);
    ok &= same;
    summary.push(format!("generator vs agentmeter, {line}"));

    // Cost, for information only: ccusage prices with LiteLLM's table and no web search.
    let am_cost = am_doc["totals"]["cost"]["total"]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok());
    let am_search = am_doc["totals"]["cost"]["web_search"]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok());
    let cc_cost = cc
        .as_ref()
        .and_then(|(_, _, d)| d["totals"]["totalCost"].as_f64());
    let cost_line = match (am_cost, am_search, cc_cost) {
        (Some(a), Some(w), Some(c)) => Some(format!(
            "Cost (information only, not compared): agentmeter ${}, of which web search \
             ${} (ccusage does not price web search); ccusage ${}; without web search the \
             difference is ${:.2}.",
            money(a),
            money(w),
            money(c),
            a - w - c
        )),
        _ => None,
    };

    // ---- table
    let am_t = Timing::of(&am_runs).unwrap();
    let mb_tree = tree.c.bytes as f64 / 1e6;
    let row = |tool: &str, cmd: &str, t: &Timing| {
        format!(
            "| {tool} | {cmd} | {} | {:.2} s | {} MB/s | {:.2} s | {} MiB | {:.0}% |",
            t.runs,
            t.best.secs,
            sep(mb_tree / t.best.secs),
            t.best.cpu,
            int((t.max_rss_kib as f64 / 1024.0).round() as u64),
            t.best.others * 100.0
        )
    };
    println!("\n---- summary (markdown) ----\n");
    println!(
        "Measured {} on {machine}. Input: generated Claude Code transcripts, {} projects, {} \
         files, {} MB (MB = 10^6 bytes), {} lines, {} assistant lines with usage, {} distinct \
         requests. Page cache warm; best of {runs} runs (CPU time of that run; peak RSS: the \
         highest of the runs), measured with wait4; \"others\": the share of the CPUs other \
         work kept busy in the half second before the best run. Both tools group by UTC day.\n",
        chrono::Utc::now().format("%Y-%m-%d"),
        int(tree.projects as u64),
        int(tree.c.files),
        sep(mb_tree),
        int(tree.c.lines),
        int(tree.c.usage_lines),
        int(tree.c.requests),
    );
    println!("| tool | command | runs | wall time | throughput | CPU time | peak RSS | others |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "{}",
        row(
            &format!("{am_version} (release build)"),
            "`agentmeter meter projects/ --group-by day,model --format json --tz UTC`",
            &am_t
        )
    );
    if let Some(c) = &ccusage {
        let cmd =
            "`ccusage daily --offline --json --timezone UTC` (TZ=UTC, CLAUDE_CONFIG_DIR=tree)";
        match Timing::of(&cc_runs) {
            Some(t) => println!(
                "{}",
                row(&format!("ccusage {} (native binary)", c.version), cmd, &t)
            ),
            None => println!("| ccusage {} | {cmd} | failed | | | | | |", c.version),
        }
        if let Some(t) = Timing::of(&node_runs) {
            println!(
                "{}",
                row(
                    &format!(
                        "ccusage {} via `node_modules/.bin/ccusage` (Node, as `npx ccusage`)",
                        c.version
                    ),
                    cmd,
                    &t
                )
            );
        }
        if let (Some(t), true) = (Timing::of(&cc_runs), am_t.best.secs > 0.0) {
            println!(
                "\nagentmeter / ccusage (native): {:.2}x the wall time, {:.2}x the peak RSS.",
                am_t.best.secs / t.best.secs,
                am_t.max_rss_kib as f64 / t.max_rss_kib.max(1) as f64
            );
        }
        println!("\nccusage binary: `{}`", c.bin.display());
        if let Some(n) = &c.note {
            println!("Note: {n}.");
        }
    } else if let Some(why) = cc_failed.as_ref() {
        println!("\nccusage failed: {why}");
    }
    println!();
    for s in &summary {
        println!("- {s}");
    }
    let c = &tree.c;
    println!(
        "\nTraps in the tree: {} earlier streaming snapshots (same message.id and requestId, \
         fewer output tokens), {} resumed sessions starting with {} copied lines, {} Task \
         subagent requests (sidechain, own ids), {} `/btw` sidechain replays (same message.id, \
         new requestId, +50k cache reads), {} sidechain copies under the same key (+100 output \
         tokens), {} `<synthetic>` and {} `isApiErrorMessage` lines (zero usage, as Claude Code \
         writes them), {} Task results whose `toolUseResult` has a `usage` object, {} requests \
         with web searches, {} with 1h cache writes.",
        int(c.early_snapshots),
        int(c.resumed_sessions),
        int(c.resumed_lines),
        int(c.subagent_requests),
        int(c.replays),
        int(c.sidechain_copies),
        int(c.synthetic),
        int(c.api_errors),
        int(c.tool_results_with_usage),
        int(c.search_requests),
        int(c.requests_1h),
    );
    let d = &am_doc["dropped"];
    println!(
        "agentmeter dropped {} duplicate request lines, {} sidechain replays, {} `<synthetic>` \
         lines (API errors included: their model is `<synthetic>`) and {} other API-error lines.",
        int(num(&d["duplicate_requests"])),
        int(num(&d["sidechain_replays"])),
        int(num(&d["synthetic"])),
        int(num(&d["api_errors"])),
    );
    if let Some(c) = cost_line {
        println!("\n{c}");
    }
    println!(
        "\n(bench wall time {:.0} s)",
        started.elapsed().as_secs_f64()
    );
    if ccusage.is_none() {
        println!("ccusage was not run: see above");
    }
    if !ok {
        eprintln!("token totals differ (see above)");
        std::process::exit(1);
    }
}
