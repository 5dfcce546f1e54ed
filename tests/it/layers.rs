//! The crate graph keeps the billing chain's seams (ARCHITECTURE.md, "Crates"): these tests
//! read each crate's manifest and root, so a dependency that breaks a seam fails here.

use std::collections::BTreeMap;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Each library crate's normal dependencies (name -> optional?).
fn crates() -> BTreeMap<String, BTreeMap<String, bool>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = e.unwrap().path();
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let manifest: toml::Table = text.parse().unwrap();
        let name = manifest["package"]["name"].as_str().unwrap().to_string();
        let deps = manifest
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|t| {
                t.iter()
                    .map(|(k, v)| {
                        let optional = v.get("optional").and_then(|o| o.as_bool()) == Some(true);
                        (k.clone(), optional)
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.insert(name, deps);
    }
    out
}

#[test]
fn the_crate_graph_keeps_the_seams() {
    let crates = crates();
    let names: Vec<&str> = crates.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "agentmeter-api",
            "agentmeter-core",
            "agentmeter-gate",
            "agentmeter-ingest",
            "agentmeter-meter",
            "agentmeter-pricing",
            "agentmeter-project",
            "agentmeter-render"
        ]
    );
    let has = |c: &str, d: &str| crates[c].get(d).is_some_and(|optional| !optional);
    // Metering never sees a price; rating never sees a raw event.
    assert!(!has("agentmeter-meter", "agentmeter-pricing"));
    assert!(!has("agentmeter-pricing", "agentmeter-ingest"));
    assert!(!has("agentmeter-pricing", "agentmeter-meter"));
    // The stages build without the heavy crates: only render has polars and plotters, only
    // api has HTTP, and clap is at most an optional feature (the binary's).
    for (c, deps) in &crates {
        for heavy in ["polars", "plotters"] {
            assert_eq!(
                deps.contains_key(heavy),
                c == "agentmeter-render",
                "{c} {heavy}"
            );
        }
        assert_eq!(
            deps.contains_key("reqwest"),
            c == "agentmeter-api",
            "{c} reqwest"
        );
        assert_ne!(deps.get("clap"), Some(&false), "{c} depends on clap");
        // Core depends on no other agentmeter crate.
        if c == "agentmeter-core" {
            assert!(
                !deps.keys().any(|d| d.starts_with("agentmeter-")),
                "{deps:?}"
            );
        }
    }
}

#[test]
fn unsafe_code_is_forbidden_but_in_ingest_and_denied_in_the_binary() {
    for c in crates().keys() {
        let lib =
            std::fs::read_to_string(root().join("crates").join(c).join("src/lib.rs")).unwrap();
        let forbids = lib.contains("#![forbid(unsafe_code)]");
        assert_eq!(forbids, c != "agentmeter-ingest", "{c}");
    }
    let bin = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    assert!(bin.contains("#![deny(unsafe_code)]"));
}

/// The fuzz crate fuzzes the parsers alone: it must not pull in polars (through the binary
/// or render).
#[test]
fn the_fuzz_crate_depends_on_parser_crates_only() {
    let text = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    for dep in manifest["dependencies"].as_table().unwrap().keys() {
        assert!(
            ![
                "agentmeter",
                "agentmeter-render",
                "agentmeter-api",
                "polars"
            ]
            .contains(&dep.as_str()),
            "fuzz depends on {dep}"
        );
    }
}
