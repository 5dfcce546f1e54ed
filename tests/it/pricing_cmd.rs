//! `agentmeter pricing list|show|check|diff`.

use crate::common::*;

#[test]
fn list_shows_the_rows_in_force_at_a_date() {
    let r = run(["pricing", "list", "--at", "2026-03-01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Before 2026-03-13 Opus 4.6 had a long-context row; Opus 4.7 did not exist yet.
    let opus46 = r
        .stdout
        .lines()
        .find(|l| l.starts_with("claude-opus-4-6 "))
        .unwrap();
    assert!(opus46.contains(">200K: 10/37.5"), "{opus46}");
    assert!(!r.stdout.contains("claude-opus-4-7"));
    assert!(r.stdout.contains("runtime: no price in force"));
    let r = run(["pricing", "list", "--at", "2026-10-01", "-f", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["runtime_usd_per_hour"], "0.08");
    assert_eq!(v["web_search_usd_per_1000"], "10");
    assert!(v["models"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "claude-opus-5-5"));
}

#[test]
fn show_gives_a_models_history_by_id_or_alias() {
    let r = run(["pricing", "show", "claude-haiku-4-5-20251001"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("claude-haiku-4-5 "), "{}", r.stdout);
    let r = run(["pricing", "show", "claude-opus-4-6"]);
    assert_eq!(r.stdout.matches("from 2026-").count(), 3, "{}", r.stdout);
    let r = run(["pricing", "show", "nope"]);
    assert_eq!(r.code, 2);
}

#[test]
fn check_accepts_the_bundled_table_and_rejects_broken_ones() {
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing/anthropic.toml");
    // On the table's own `checked` date (a fixed --today keeps the test from ageing).
    let r = run([
        "pricing".as_ref(),
        "check".as_ref(),
        bundled.as_os_str(),
        "--today".as_ref(),
        "2026-12-01".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("ok: ") && r.stdout.contains(" 0 warning(s)"),
        "{}",
        r.stdout
    );
    let tmp = Tmp::new();
    let broken = tmp.write(
        "bad.toml",
        "schema = 1\nname = \"bad\"\ncurrency = \"USD\"\n[[model]]\nid = \"m\"\naliases = [\"m\"]\n\
         [[model.price]]\neffective = \"2026-05-01\"\ninput = \"5\"\noutput = \"25\"\ncache_write_5m = \"6\"\ncache_write_1h = \"10\"\ncache_read = \"0.5\"\n\
         [[model.price]]\neffective = \"2026-04-01\"\ninput = \"5\"\noutput = \"25\"\ncache_write_5m = \"6.25\"\ncache_write_1h = \"10\"\ncache_read = \"0.5\"\n",
    );
    let r = run(["pricing".as_ref(), "check".as_ref(), broken.as_os_str()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("must be sorted by effective"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"m\" is used twice"), "{}", r.stdout);
    assert!(
        r.stdout.contains("warning: ") && r.stdout.contains("cache_write_5m is 6"),
        "{}",
        r.stdout
    );
    // meter refuses it, pointing at `pricing check`.
    let input = tmp.write("a.ndjson", "");
    let r = run([
        "meter".as_ref(),
        input.as_os_str(),
        "--pricing".as_ref(),
        broken.as_os_str(),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("pricing check"), "{}", r.stderr);
}

#[test]
fn diff_lists_what_changed() {
    let tmp = Tmp::new();
    let old = tmp.write("old.toml", agentmeter::pricing::BUNDLED);
    let new = tmp.write(
        "new.toml",
        &agentmeter::pricing::BUNDLED.replacen("usd_per_1000 = \"10\"", "usd_per_1000 = \"12\"", 1),
    );
    let r = run([
        "pricing".as_ref(),
        "diff".as_ref(),
        old.as_os_str(),
        new.as_os_str(),
    ]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("~ web_search from 2025-05-07T00:00:00Z: $10 per 1,000 -> $12 per 1,000"),
        "{}",
        r.stdout
    );
    let r = run([
        "pricing".as_ref(),
        "diff".as_ref(),
        old.as_os_str(),
        old.as_os_str(),
    ]);
    assert!(r.stdout.contains("no price changes"));
}

#[test]
fn check_warns_when_the_prices_were_checked_more_than_30_days_ago() {
    // The bundled table says checked = "2026-12-01": 2026-12-31 is 30 days later (no
    // warning), 2027-01-01 is 31 (a warning; the table stays usable, exit 0).
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing/anthropic.toml");
    let check = |today: &str| {
        run([
            "pricing".as_ref(),
            "check".as_ref(),
            bundled.as_os_str(),
            "--today".as_ref(),
            today.as_ref(),
        ])
    };
    let r = check("2026-12-31");
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(" 0 warning(s)"), "{}", r.stdout);
    let r = check("2027-01-01");
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains(&format!(
            "warning: {}: prices checked 2026-12-01, 31 days before 2027-01-01: ",
            bundled.display()
        )) && r.stdout.contains(" 1 warning(s)"),
        "{}",
        r.stdout
    );
    let r = check("yesterday");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error: --today: "), "{}", r.stderr);
}

#[test]
fn show_suggests_the_nearest_id_for_an_unknown_model() {
    let r = run(["pricing", "show", "claude-sonnet-5.5"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("unknown model \"claude-sonnet-5.5\" in price table anthropic@")
            && r.stderr.contains("(did you mean `claude-sonnet-5-5`?)"),
        "{}",
        r.stderr
    );
}

// ----- pricing audit ---------------------------------------------------------------------------

/// A small genai-prices file, written by hand in the shape of pydantic/genai-prices
/// `prices/providers/anthropic.yml` (fields as in `ModelInfo`, `ModelPrice`, `ConditionalPrice`,
/// `TieredPrices` of its `prices/src/prices/prices_types.py`). Planted: Sonnet 5 at 3/15 from
/// 2026-09-01 (the cancelled rise, which genai-prices keeps); claude-2, which we lack.
pub(crate) const GENAI: &str = "\
# yaml-language-server: $schema=.schema.json
name: Anthropic
id: anthropic
api_pattern: 'https://api\\.anthropic\\.com'
models:
  - id: claude-2
    match:
      starts_with: claude-2
    prices:
      input_mtok: 8
      output_mtok: 24

  - id: claude-3-5-haiku-latest
    match:
      starts_with: claude-3-5-haiku
    prices:
      input_mtok: 0.8
      cache_write_mtok: 1
      cache_write_1h_mtok: 1.6
      cache_read_mtok: 0.08
      output_mtok: 4

  - id: claude-sonnet-4-6
    match:
      starts_with: claude-sonnet-4-6
    prices:
      - prices:
          input_mtok:
            base: 3
            tiers:
              - start: 200000
                price: 6
          cache_read_mtok: 0.30
          cache_write_mtok: 3.75
          cache_write_1h_mtok: 6
          output_mtok:
            base: 15
            tiers:
              - start: 200000
                price: 22.50
      - constraint:
          start_date: 2026-03-13
        prices:
          input_mtok: 3
          cache_read_mtok: 0.30
          cache_write_mtok: 3.75
          cache_write_1h_mtok: 6
          output_mtok: 15
          web_searches_kcount: 10

  - id: claude-sonnet-5
    match:
      starts_with: claude-sonnet-5
    prices:
      - prices:
          input_mtok: 2
          cache_read_mtok: 0.20
          cache_write_mtok: 2.50
          cache_write_1h_mtok: 4
          output_mtok: 10
      - constraint:
          start_date: 2026-09-01
        prices:
          input_mtok: 3
          cache_read_mtok: 0.30
          cache_write_mtok: 3.75
          cache_write_1h_mtok: 6
          output_mtok: 15
";

/// A small LiteLLM file, written by hand in the shape of BerriAI/litellm
/// `model_prices_and_context_window.json` (per-token floats, `litellm_provider`,
/// `cache_creation_input_token_cost_above_1hr`, `*_above_200k_tokens`,
/// `provider_specific_entry`, as its Anthropic entries have them). Planted: Haiku 3's 1-hour
/// writes at 6e-06 (LiteLLM's own error), Opus 4.6 fast at 6x after fast mode ended, a model
/// we lack; a Bedrock and an OpenAI entry that must be ignored.
pub(crate) const LITELLM: &str = r#"{
    "sample_spec": {
        "input_cost_per_token": 0.0,
        "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
        "mode": "one of: chat, embedding, completion"
    },
    "claude-3-haiku-20240307": {
        "cache_creation_input_token_cost": 3e-07,
        "cache_creation_input_token_cost_above_1hr": 6e-06,
        "cache_read_input_token_cost": 3e-08,
        "input_cost_per_token": 2.5e-07,
        "litellm_provider": "anthropic",
        "mode": "chat",
        "output_cost_per_token": 1.25e-06
    },
    "claude-opus-4-6-20260205": {
        "cache_creation_input_token_cost": 6.25e-06,
        "cache_creation_input_token_cost_above_1hr": 1e-05,
        "cache_read_input_token_cost": 5e-07,
        "input_cost_per_token": 5e-06,
        "litellm_provider": "anthropic",
        "mode": "chat",
        "output_cost_per_token": 2.5e-05,
        "provider_specific_entry": {
            "us": 1.1,
            "fast": 6.0
        }
    },
    "claude-sonnet-4-5": {
        "cache_creation_input_token_cost": 3.75e-06,
        "cache_creation_input_token_cost_above_1hr": 6e-06,
        "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05,
        "cache_read_input_token_cost": 3e-07,
        "input_cost_per_token": 3e-06,
        "input_cost_per_token_above_200k_tokens": 6e-06,
        "output_cost_per_token_above_200k_tokens": 2.25e-05,
        "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06,
        "cache_read_input_token_cost_above_200k_tokens": 6e-07,
        "litellm_provider": "anthropic",
        "mode": "chat",
        "output_cost_per_token": 1.5e-05
    },
    "claude-sonnet-4-5-20250929-v1:0": {
        "input_cost_per_token": 9e-06,
        "litellm_provider": "bedrock",
        "mode": "chat",
        "output_cost_per_token": 9e-05
    },
    "claude-mythos-preview": {
        "input_cost_per_token": 1e-05,
        "litellm_provider": "anthropic",
        "mode": "chat",
        "output_cost_per_token": 5e-05
    },
    "gpt-4o": {
        "input_cost_per_token": 2.5e-06,
        "litellm_provider": "openai",
        "mode": "chat",
        "output_cost_per_token": 1e-05
    }
}
"#;

fn audit(files: &[(&str, &std::path::Path)], extra: &[&str]) -> Run {
    let mut args: Vec<std::ffi::OsString> = vec!["pricing".into(), "audit".into()];
    for (flag, p) in files {
        args.push(flag.into());
        args.push(p.into());
    }
    args.extend(extra.iter().map(Into::into));
    run(args)
}

#[test]
fn audit_lists_every_disagreement_and_missing_model() {
    let tmp = Tmp::new();
    let g = tmp.write("anthropic.yml", GENAI);
    let l = tmp.write("model_prices.json", LITELLM);
    let r = audit(
        &[("--genai-prices", &g), ("--litellm", &l)],
        &["--at", "2026-10-01", "-f", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let (gf, lf) = (g.display().to_string(), l.display().to_string());
    // (model, their id, rate, ours, theirs, file, line). Ours are the bundled table's rates at
    // 2026-10-01: Sonnet 5 2 / 10 / 2.50 / 4 / 0.20; Haiku 3's 1h write 0.50; Opus 4.6 has
    // no fast rates after 2026-06-27 while LiteLLM's 6x gives 30 / 150 / 37.5 / 60 / 3.
    // Their lines: `- id: claude-sonnet-5` is line 51 of GENAI; LiteLLM's entries start on
    // lines 7 and 16. Haiku 3.5, Sonnet 4.6 (the 2026-03-13 price applies) and Sonnet 4.5
    // (long context as ours) agree; Opus 4.6's "us": 1.1 is ours too.
    let want = [
        (
            "claude-sonnet-5",
            "claude-sonnet-5",
            "input",
            Some("2"),
            Some("3"),
            &gf,
            51,
        ),
        (
            "claude-sonnet-5",
            "claude-sonnet-5",
            "output",
            Some("10"),
            Some("15"),
            &gf,
            51,
        ),
        (
            "claude-sonnet-5",
            "claude-sonnet-5",
            "cache_write_5m",
            Some("2.5"),
            Some("3.75"),
            &gf,
            51,
        ),
        (
            "claude-sonnet-5",
            "claude-sonnet-5",
            "cache_write_1h",
            Some("4"),
            Some("6"),
            &gf,
            51,
        ),
        (
            "claude-sonnet-5",
            "claude-sonnet-5",
            "cache_read",
            Some("0.2"),
            Some("0.3"),
            &gf,
            51,
        ),
        (
            "claude-3-haiku",
            "claude-3-haiku-20240307",
            "cache_write_1h",
            Some("0.5"),
            Some("6"),
            &lf,
            7,
        ),
        (
            "claude-opus-4-6",
            "claude-opus-4-6-20260205",
            "fast.input",
            None,
            Some("30"),
            &lf,
            16,
        ),
        (
            "claude-opus-4-6",
            "claude-opus-4-6-20260205",
            "fast.output",
            None,
            Some("150"),
            &lf,
            16,
        ),
        (
            "claude-opus-4-6",
            "claude-opus-4-6-20260205",
            "fast.cache_write_5m",
            None,
            Some("37.5"),
            &lf,
            16,
        ),
        (
            "claude-opus-4-6",
            "claude-opus-4-6-20260205",
            "fast.cache_write_1h",
            None,
            Some("60"),
            &lf,
            16,
        ),
        (
            "claude-opus-4-6",
            "claude-opus-4-6-20260205",
            "fast.cache_read",
            None,
            Some("3"),
            &lf,
            16,
        ),
    ];
    let want: Vec<serde_json::Value> = want
        .iter()
        .map(|(m, id, rate, ours, theirs, file, line)| {
            serde_json::json!({"model": m, "their_model": id, "rate": rate, "ours": ours,
                               "theirs": theirs, "file": file, "line": line})
        })
        .collect();
    assert_eq!(v["disagreements"], serde_json::json!(want));
    // claude-2 is line 6 of GENAI, claude-mythos-preview line 49 of LITELLM.
    assert_eq!(
        v["missing"],
        serde_json::json!([
            {"their_model": "claude-2", "file": gf, "line": 6},
            {"their_model": "claude-mythos-preview", "file": lf, "line": 49},
        ])
    );
    // Compared: Haiku 3.5, Sonnet 4.6, Sonnet 5 (genai); Haiku 3, Opus 4.6, Sonnet 4.5 (LiteLLM).
    assert_eq!(v["compared"], 6);

    // The table: one row per disagreement, the missing models, a count.
    let r = audit(&[("--litellm", &l)], &["--at", "2026-10-01"]);
    assert_eq!(r.code, 1);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("claude-3-haiku "))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "claude-3-haiku",
            "cache_write_1h",
            "0.5",
            "6",
            &format!("{lf}:7"),
            "(claude-3-haiku-20240307)"
        ]
    );
    assert!(
        r.stdout
            .ends_with("6 disagreement(s), 1 model(s) missing from the table\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn audit_reads_genai_prices_in_force_at_the_date_and_their_tiers() {
    // At 2026-03-01 genai-prices' first Sonnet 4.6 price applies: input and output tiered at
    // 200,000 (6 and 22.50, as ours) but cache rates flat, where ours has a long-context
    // 7.50 / 12 / 0.60.
    let tmp = Tmp::new();
    let g = tmp.write("anthropic.yml", GENAI);
    let r = audit(
        &[("--genai-prices", &g)],
        &["--at", "2026-03-01", "-f", "json"],
    );
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let sonnet: Vec<_> = v["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["model"] == "claude-sonnet-4-6")
        .map(|d| (d["rate"].clone(), d["ours"].clone(), d["theirs"].clone()))
        .collect();
    use serde_json::json;
    assert_eq!(
        sonnet,
        [
            (
                json!("long_context.cache_write_5m"),
                json!("7.5"),
                json!(null)
            ),
            (
                json!("long_context.cache_write_1h"),
                json!("12"),
                json!(null)
            ),
            (json!("long_context.cache_read"), json!("0.6"), json!(null)),
        ]
    );
    // Sonnet 5 has no row of ours in force at 2026-03-01: each rate they state is listed.
    let sonnet5 = v["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["model"] == "claude-sonnet-5")
        .count();
    assert_eq!(sonnet5, 5);
}

#[test]
fn audit_exits_0_when_everything_agrees_and_2_on_bad_files() {
    let tmp = Tmp::new();
    // Only the agreeing entries: Haiku 3.5 (genai) and Sonnet 4.5 (LiteLLM).
    let haiku: String = GENAI
        .lines()
        .take(5)
        .chain(GENAI.lines().skip(12).take(10))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(haiku.contains("claude-3-5-haiku-latest") && !haiku.contains("claude-2"));
    let g = tmp.write("ok.yml", &haiku);
    let sonnet = format!(
        "{{\n{}\n}}\n",
        LITELLM
            .lines()
            .skip(28)
            .take(14)
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end_matches(',')
    );
    assert!(sonnet.contains("\"claude-sonnet-4-5\": {"), "{sonnet}");
    let l = tmp.write("ok.json", &sonnet);
    let r = audit(
        &[("--genai-prices", &g), ("--litellm", &l)],
        &["--at", "2026-10-01"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .ends_with("0 disagreement(s), 0 model(s) missing from the table\n"),
        "{}",
        r.stdout
    );

    // Truncated JSON: serde's line; a rate that is not a number: the entry's line.
    let bad = tmp.write("bad.json", &LITELLM[..300]);
    let r = audit(&[("--litellm", &bad)], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(&format!("error: {}:", bad.display()))
            && r.stderr.contains("not JSON")
            && r.stderr.contains("hint: "),
        "{}",
        r.stderr
    );
    let text = LITELLM.replacen(
        "\"input_cost_per_token\": 2.5e-07",
        "\"input_cost_per_token\": \"cheap\"",
        1,
    );
    let bad = tmp.write("bad2.json", &text);
    let r = audit(&[("--litellm", &bad)], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!(
            "error: {}:7: claude-3-haiku-20240307: input_cost_per_token is not a number",
            bad.display()
        )),
        "{}",
        r.stderr
    );
    let bad = tmp.write("bad.yml", "models:\n  - id: x\n    prices: [\n");
    let r = audit(&[("--genai-prices", &bad)], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!("error: {}:", bad.display())) && r.stderr.contains("not YAML"),
        "{}",
        r.stderr
    );
    let r = run(["pricing", "audit"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no file to compare with"), "{}", r.stderr);
}
