//! Claude Code 2.x transcripts as Claude Code writes them, not as a generator would: written
//! by hand, line by line, in the shapes of real files.
//!
//! Shapes and their sources:
//! - `file-history-snapshot` first lines, `progress` lines (`hook_progress`, and
//!   `agent_progress` embedding a subagent's message with its usage), `system` lines
//!   (`turn_duration`), `queue-operation`, assistant lines with `"iterations": []` absent and
//!   `inference_geo`, and `subagents/agent-<id>.jsonl` files (lines with `isSidechain: true`,
//!   `agentId` and the parent's `sessionId`): the Claude Code 2.1.39 transcripts in
//!   marot/spotter, test/fixtures/transcripts/ (sanitized real files).
//! - `permission-mode`, `mode`, `last-prompt`, `ai-title`, `worktree-state` and unknown types:
//!   named in ../shared/reference/updates-2026-12.md section 1; their bodies here are minimal
//!   (a type and a session id), as nothing reads them.
//! - `usage.iterations[]`: the advisor tool docs (agents-and-tools/tool-use/advisor-tool,
//!   "Usage and billing") and the SDK types (`BetaAdvisorMessageIterationUsage`: type
//!   `advisor_message`, `model`, the four token counts); the numbers are the docs' example:
//!   iterations 412 in / 89 out, advisor 823 in / 1,612 out, 1,348 in / 412 read / 442 out;
//!   top level 412 in / 0 read / 531 out.
//! - Lines without `type` (older Claude Code) with `costUSD`: ccusage's own fixture
//!   apps/ccusage/test/fixtures/claude/projects/project-alpha/session-alpha/chat.jsonl.
//!
//! Prices (pricing/anthropic.toml), USD per million tokens (input / 5m write / read / output):
//!   claude-opus-4-6 5 / 6.25 / 0.50 / 25, and x1.1 for `inference_geo: "us"` from 2026-08-06;
//!   claude-opus-4-8 5 / 6.25 / 0.50 / 25; claude-sonnet-4-6 3 / 3.75 / 0.30 / 15;
//!   claude-sonnet-4-5 and claude-sonnet-4-0 (alias claude-sonnet-4-20250514) 3 / 3.75 / 0.30 / 15.
//!
//! The requests that count, by hand (session c0ffee01, project -home-ana-shop, 2026-10-01):
//!   A opus-4-6, final snapshot: 3 in, 15,005 5m writes, 11,442 read, 120 out
//!     0.000015 + 0.09378125 + 0.005721 + 0.003                                = 0.10251725
//!   B sonnet-4-6 executor with an advisor (iterations, each at its own model):
//!     412 x 3 + 89 x 15              = 0.001236 + 0.001335                     = 0.002571
//!     advisor opus-4-8 823 x 5 + 1,612 x 25 = 0.004115 + 0.0403                = 0.044415
//!     1,348 x 3 + 412 x 0.30 + 442 x 15 = 0.004044 + 0.0001236 + 0.00663      = 0.0107976
//!     B = 0.0577836 (the top level alone would say 412 in / 531 out = 0.009201)
//!   C opus-4-6 in the US: 1,000 in, 2,000 out, x1.1: 0.0055 + 0.055            = 0.0605
//!   E opus-4-6, no requestId (two snapshots of msg_E, the larger counts): 100 in, 50 out
//!     0.0005 + 0.00125                                                         = 0.00175
//!   D subagent a7, sonnet-4-5, final snapshot: 3 in, 13,522 5m writes, 300 out
//!     0.000009 + 0.0507075 + 0.0045                                            = 0.0552165
//!   c0ffee01 = 0.27776735, 5 requests (B is one request of three inferences).
//! Session old1 (project -home-ana-old, no `type`, 2026-01-09), sonnet-4-0:
//!   100 in, 50 out, 25 writes (no split: 5m), 10 read: 0.0003 + 0.00075 + 0.00009375 + 0.000003
//!                                                                              = 0.00114675
//!   300 in, 125 out, 40 read: 0.0009 + 0.001875 + 0.000012                     = 0.002787
//!   old1 = 0.00393375; Claude Code's own costUSD: 0.12 + 0.56 = 0.68.
//! Total = 0.2817011. Dropped: 3 duplicate snapshots (A, D, E), 2 progress copies of D.

use serde_json::Value;

use crate::common::{dec, run, Tmp};
use crate::transcripts::{groups as rows, meter_json as meter, session};

const SESSION: &str = "c0ffee01-0000-4000-8000-000000000001";

/// The main session file: metadata first, as Claude Code 2.1 writes it.
const MAIN: &str = r#"{"type":"file-history-snapshot","messageId":"f509a2e7-0000-4000-8000-00000000000a","snapshot":{"messageId":"f509a2e7-0000-4000-8000-00000000000a","trackedFileBackups":{},"timestamp":"2026-10-01T08:59:58.227Z"},"isSnapshotUpdate":false}
{"type":"permission-mode","permissionMode":"default","sessionId":"c0ffee01-0000-4000-8000-000000000001"}
{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","type":"progress","data":{"type":"hook_progress","hookEvent":"SessionStart","hookName":"SessionStart:startup","command":"bd prime"},"parentToolUseID":"9842053d","toolUseID":"9842053d","timestamp":"2026-10-01T08:59:59.545Z","uuid":"u-p1"}
{"parentUuid":"u-p1","isSidechain":false,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","type":"user","message":{"role":"user","content":"private question about the usage"},"uuid":"u-1","timestamp":"2026-10-01T09:00:00.000Z","permissionMode":"default"}
{"parentUuid":"u-1","isSidechain":false,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","message":{"model":"claude-opus-4-6","id":"msg_A","type":"message","role":"assistant","content":[{"type":"thinking","thinking":"secret thoughts","signature":"[REDACTED]"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":15005,"cache_read_input_tokens":11442,"cache_creation":{"ephemeral_5m_input_tokens":15005,"ephemeral_1h_input_tokens":0},"output_tokens":9,"service_tier":"standard","inference_geo":"global"}},"requestId":"req_A","type":"assistant","uuid":"u-2","timestamp":"2026-10-01T09:00:02.718Z"}
{"parentUuid":"u-2","isSidechain":false,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","message":{"model":"claude-opus-4-6","id":"msg_A","type":"message","role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Task","input":{"subagent_type":"Explore","prompt":"secret prompt"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":15005,"cache_read_input_tokens":11442,"cache_creation":{"ephemeral_5m_input_tokens":15005,"ephemeral_1h_input_tokens":0},"output_tokens":120,"service_tier":"standard","inference_geo":"global"}},"requestId":"req_A","type":"assistant","uuid":"u-3","timestamp":"2026-10-01T09:00:05.111Z"}
{"parentUuid":"u-3","isSidechain":false,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","type":"progress","data":{"message":{"type":"assistant","timestamp":"2026-10-01T09:02:00.000Z","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_D","type":"message","role":"assistant","content":[{"type":"text","text":"secret"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":13522,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":13522,"ephemeral_1h_input_tokens":0},"output_tokens":3,"service_tier":"standard","inference_geo":"not_available"},"context_management":null},"requestId":"req_D","uuid":"u-d0"},"normalizedMessages":[],"type":"agent_progress","prompt":"secret prompt","agentId":"a7"},"toolUseID":"agent_msg_1","parentToolUseID":"toolu_1","uuid":"u-4","timestamp":"2026-10-01T09:02:00.000Z"}
{"parentUuid":"u-4","isSidechain":false,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","message":{"model":"claude-sonnet-4-6","id":"msg_B","type":"message","role":"assistant","content":[{"type":"text","text":"secret plan"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":412,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":531,"service_tier":"standard","inference_geo":"global","iterations":[{"type":"message","input_tokens":412,"output_tokens":89,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},{"type":"advisor_message","model":"claude-opus-4-8","input_tokens":823,"output_tokens":1612,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},{"type":"message","input_tokens":1348,"output_tokens":442,"cache_creation_input_tokens":0,"cache_read_input_tokens":412}]}},"requestId":"req_B","type":"assistant","uuid":"u-5","timestamp":"2026-10-01T09:05:00.000Z"}
{"parentUuid":"u-5","isSidechain":false,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","slug":"radiant-floating-music","type":"system","subtype":"turn_duration","durationMs":341765,"timestamp":"2026-10-01T09:05:01.223Z","uuid":"u-6","isMeta":false}
{"type":"queue-operation","operation":"enqueue","timestamp":"2026-10-01T09:06:00.174Z","sessionId":"c0ffee01-0000-4000-8000-000000000001","content":"secret queued prompt"}
{"parentUuid":"u-6","isSidechain":false,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","message":{"model":"claude-opus-4-6","id":"msg_C","type":"message","role":"assistant","content":[{"type":"text","text":"secret"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2000,"service_tier":"standard","inference_geo":"us","iterations":[]}},"requestId":"req_C","type":"assistant","uuid":"u-7","timestamp":"2026-10-01T09:10:00.000Z"}
{"type":"last-prompt","lastPrompt":"secret","sessionId":"c0ffee01-0000-4000-8000-000000000001"}
{"type":"ai-title","title":"secret title","sessionId":"c0ffee01-0000-4000-8000-000000000001"}
{"parentUuid":"u-7","isSidechain":false,"sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","message":{"model":"claude-opus-4-6","id":"msg_E","type":"message","role":"assistant","content":[],"usage":{"input_tokens":100,"output_tokens":10,"service_tier":"standard"}},"type":"assistant","uuid":"u-8","timestamp":"2026-10-01T09:20:00.000Z"}
{"parentUuid":"u-8","isSidechain":false,"sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","message":{"model":"claude-opus-4-6","id":"msg_E","type":"message","role":"assistant","content":[],"usage":{"input_tokens":100,"output_tokens":50,"service_tier":"standard"}},"type":"assistant","uuid":"u-9","timestamp":"2026-10-01T09:20:01.000Z"}
{"type":"worktree-state","sessionId":"c0ffee01-0000-4000-8000-000000000001","worktree":null}
{"type":"mode","mode":"normal","sessionId":"c0ffee01-0000-4000-8000-000000000001"}
{"type":"a-type-from-the-future","sessionId":"c0ffee01-0000-4000-8000-000000000001"}
{"type":"summary","summary":"Shop work","leafUuid":"u-9"}
"#;

/// The subagent's own file: its request counts once, under the parent session.
const SUBAGENT: &str = r#"{"parentUuid":null,"isSidechain":true,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","agentId":"a7","type":"user","message":{"role":"user","content":"secret prompt"},"uuid":"u-d","timestamp":"2026-10-01T09:01:59.000Z"}
{"parentUuid":"u-d","isSidechain":true,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","agentId":"a7","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_D","type":"message","role":"assistant","content":[{"type":"text","text":"secret"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":13522,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":13522,"ephemeral_1h_input_tokens":0},"output_tokens":3,"service_tier":"standard","inference_geo":"not_available"}},"requestId":"req_D","type":"assistant","uuid":"u-d1","timestamp":"2026-10-01T09:02:00.000Z"}
{"parentUuid":"u-d1","isSidechain":true,"userType":"external","cwd":"/home/ana/shop","sessionId":"c0ffee01-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","agentId":"a7","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_D","type":"message","role":"assistant","content":[{"type":"text","text":"secret"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":13522,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":13522,"ephemeral_1h_input_tokens":0},"output_tokens":300,"service_tier":"standard","inference_geo":"not_available"}},"requestId":"req_D","type":"assistant","uuid":"u-d2","timestamp":"2026-10-01T09:02:09.000Z"}
"#;

/// Older Claude Code: no `type`, and Claude Code's own estimate in `costUSD`.
const OLD: &str = r#"{"timestamp":"2026-01-09T10:00:00.000Z","sessionId":"old1","message":{"role":"assistant","id":"msg-o1","model":"claude-sonnet-4-20250514","usage":{"input_tokens":100,"output_tokens":50,"cache_creation_input_tokens":25,"cache_read_input_tokens":10}},"requestId":"req-o1","costUSD":0.12,"version":"1.0.0"}
{"timestamp":"2026-01-09T12:30:00.000Z","sessionId":"old1","message":{"role":"assistant","id":"msg-o2","model":"claude-sonnet-4-20250514","usage":{"input_tokens":300,"output_tokens":125,"cache_creation_input_tokens":0,"cache_read_input_tokens":40}},"requestId":"req-o2","costUSD":0.56,"version":"1.1.0"}
"#;

/// A file with a progress copy of D and nothing else that costs anything.
const STRAY: &str = r#"{"type":"file-history-snapshot","messageId":"m","snapshot":{"messageId":"m","trackedFileBackups":{},"timestamp":"2026-10-01T09:00:00.000Z"},"isSnapshotUpdate":false}
{"parentUuid":null,"isSidechain":false,"sessionId":"stray","version":"2.1.39","type":"progress","data":{"message":{"type":"assistant","timestamp":"2026-10-01T09:02:00.000Z","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_D","type":"message","role":"assistant","content":[],"usage":{"input_tokens":3,"output_tokens":3}},"requestId":"req_D"},"type":"agent_progress","agentId":"a7"},"uuid":"s-1","timestamp":"2026-10-01T09:02:00.000Z"}
"#;

pub(crate) fn tree() -> Tmp {
    let tmp = Tmp::new();
    tmp.write(&format!("projects/-home-ana-shop/{SESSION}.jsonl"), MAIN);
    tmp.write(
        &format!("projects/-home-ana-shop/{SESSION}/subagents/agent-a7.jsonl"),
        SUBAGENT,
    );
    tmp.write("projects/-home-ana-old/old1.jsonl", OLD);
    tmp.write("projects/-home-ana-shop/stray.jsonl", STRAY);
    tmp
}

fn amount(v: &Value) -> rust_decimal::Decimal {
    dec(v.as_str().unwrap_or_else(|| panic!("not an amount: {v}")))
}

#[test]
fn a_claude_code_2_tree_meters_every_request_once_at_its_own_model() {
    let tmp = tree();
    // Detected by content (the main file's first line is a file-history-snapshot), and the
    // same with --source claude-code.
    for extra in [&[][..], &["--source", "claude-code"][..]] {
        let v = meter(&tmp, extra);
        assert_eq!(amount(&v["totals"]["cost"]["total"]), dec("0.2817011"));
        let s = session(&v, SESSION);
        assert_eq!(amount(&s["cost"]["total"]), dec("0.27776735"));
        assert_eq!(s["requests"], 5);
        // The advisor's spend, on its own: part of the total above.
        assert_eq!(s["advisor"][0]["model"], "claude-opus-4-8");
        assert_eq!(s["advisor"][0]["consultations"], 1);
        assert_eq!(amount(&s["advisor"][0]["cost"]), dec("0.044415"));
        assert_eq!(amount(&v["totals"]["advisor"][0]["cost"]), dec("0.044415"));
        // Tokens: A + B's three inferences + C + E + D.
        // input 3 + (412 + 823 + 1,348) + 1,000 + 100 + 3 = 3,689
        // output 120 + (89 + 1,612 + 442) + 2,000 + 50 + 300 = 4,613
        assert_eq!(s["tokens"]["input"], 3_689);
        assert_eq!(s["tokens"]["output"], 4_613);
        assert_eq!(s["tokens"]["cache_read"], 11_442 + 412);
        assert_eq!(s["tokens"]["cache_write_5m"], 15_005 + 13_522);
        let old = session(&v, "old1");
        assert_eq!(amount(&old["cost"]["total"]), dec("0.00393375"));
        assert_eq!(old["requests"], 2);
        // Claude Code's own estimate, kept beside ours.
        assert_eq!(amount(&old["provider_reported"]["list_cost"]), dec("0.68"));
        let d = &v["dropped"];
        assert_eq!(d["duplicate_requests"], 3);
        assert_eq!(d["progress_copies"], 2);
        assert_eq!(d["invalid_records"], 0);
        // Content never leaves the transcript.
        let all = serde_json::to_string(&v).unwrap();
        assert!(!all.contains("secret"), "{all}");
    }
}

#[test]
fn subagents_advisors_and_the_us_region_show_in_groups() {
    let tmp = tree();
    let by_agent = meter(&tmp, &["--group-by", "agent"]);
    // The subagent's request under its agent id; the rest (A, B, C, E, old1) under none.
    // 0.22255085 + 0.00393375 = 0.2264846.
    assert_eq!(
        rows(&by_agent),
        vec![
            ("(none)".to_string(), dec("0.2264846")),
            ("a7".to_string(), dec("0.0552165")),
        ]
    );
    let by_model = meter(&tmp, &["--group-by", "model"]);
    // opus-4-6: A + C (at 1.1x) + E = 0.16476725; opus-4-8: the advisor; sonnet-4-6: B's two
    // executor inferences 0.002571 + 0.0107976; sonnet-4-5: D; sonnet-4-0: old1.
    assert_eq!(
        rows(&by_model),
        vec![
            ("claude-opus-4-6".to_string(), dec("0.16476725")),
            ("claude-opus-4-8".to_string(), dec("0.044415")),
            ("claude-sonnet-4-0".to_string(), dec("0.00393375")),
            ("claude-sonnet-4-5".to_string(), dec("0.0552165")),
            ("claude-sonnet-4-6".to_string(), dec("0.0133686")),
        ]
    );
    let by_project = meter(&tmp, &["--group-by", "project"]);
    assert_eq!(
        rows(&by_project),
        vec![
            ("-home-ana-old".to_string(), dec("0.00393375")),
            ("-home-ana-shop".to_string(), dec("0.27776735")),
        ]
    );
}

#[test]
fn nothing_is_silently_zero() {
    let tmp = tree();
    let v = meter(&tmp, &[]);
    let empty: Vec<&str> = v["empty_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(empty.len(), 1, "{empty:?}");
    assert!(empty[0].ends_with(
        "stray.jsonl: 1 line(s) carry usage but none is a billed request: 1 progress copies of a subagent's request (counted from the subagent's own file)"
    ), "{}", empty[0]);
    // The table says it too, and names the advisor's spend.
    let projects = tmp.path("projects").display().to_string();
    let r = run(["meter", &projects]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("stray.jsonl: 1 line(s) carry usage"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("note: advisor consultations at claude-opus-4-8: $0.04 (1 consultation(s); included above)"),
        "{}",
        r.stdout
    );
}

/// `--source claude-code` reads every file as a transcript, full stop: a file that looks like
/// a Managed Agents export is not metered as one (it holds no request line).
#[test]
fn source_claude_code_never_falls_back_to_another_format() {
    let tmp = Tmp::new();
    let ma = r#"{"id":"sevt_1","type":"session.status_running","processed_at":"2026-10-01T09:00:00Z"}
{"id":"sevt_2","type":"session.status_idle","processed_at":"2026-10-01T10:00:00Z"}
"#;
    let file = tmp.write("export.jsonl", ma).display().to_string();
    let detected = run(["meter", &file, "-f", "json"]);
    assert_eq!(detected.code, 0, "{}", detected.stderr);
    let v: Value = serde_json::from_str(&detected.stdout).unwrap();
    assert_eq!(v["totals"]["active_ms"], 3_600_000);
    let forced = run(["meter", &file, "-f", "json", "--source", "claude-code"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let v: Value = serde_json::from_str(&forced.stdout).unwrap();
    assert_eq!(v["totals"]["sessions"], 0);
    assert!(
        v["empty_files"][0].as_str().unwrap().ends_with(
            "export.jsonl: nothing to meter in 2 line(s): no session, event or model request"
        ),
        "{}",
        v["empty_files"]
    );
}
