//! docs/reference/cli.md, generated from the one clap definition (`agentmeter::cli::Cli`), and
//! a test that fails when the file drifts from it or when an argument or a command has no help.
//!
//! Refresh the file: `AGENTMETER_UPDATE_DOCS=1 cargo test --test it cli_reference` (or
//! `scripts/regen-docs.sh`).
//!
//! The page is written here, not by clap's help renderer, so it does not depend on the width
//! of a terminal: prose is wrapped at [`WIDTH`] columns, usage lines and the `after_help`
//! examples are kept verbatim, and no version or date is written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::builder::PossibleValue;
use clap::{Arg, ArgAction, Command, CommandFactory};

/// The column prose is wrapped at.
const WIDTH: usize = 100;

const REFRESH: &str =
    "AGENTMETER_UPDATE_DOCS=1 cargo test --test it cli_reference (or scripts/regen-docs.sh)";

fn doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference/cli.md")
}

/// The command tree as the binary builds it (as `agentmeter man` does: subcommands carry their
/// full names, and the generated `help` subcommand is left out).
fn cli() -> Command {
    let mut cmd = agentmeter::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// `--help`, `-h` and `--version` are clap's own, on every command: said once at the top.
fn generated(a: &Arg) -> bool {
    matches!(
        a.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

fn shown_args(cmd: &Command) -> impl Iterator<Item = &Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !generated(a))
}

fn shown_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// `agentmeter pricing list`, from the bin name clap gives a built subcommand.
fn full_name(cmd: &Command) -> String {
    cmd.get_bin_name().unwrap_or(cmd.get_name()).to_string()
}

/// Every command, depth first in the order `--help` lists them.
fn walk<'a>(cmd: &'a Command, out: &mut Vec<&'a Command>) {
    out.push(cmd);
    for s in shown_subcommands(cmd) {
        walk(s, out);
    }
}

/// The arguments and commands that have no help text, as `agentmeter report --runs` and
/// `agentmeter pricing list` (a command without `about`).
fn missing_help(root: &Command) -> Vec<String> {
    let mut cmds = Vec::new();
    walk(root, &mut cmds);
    let mut missing = Vec::new();
    for cmd in cmds {
        let name = full_name(cmd);
        if cmd.get_about().is_none() && cmd.get_long_about().is_none() {
            missing.push(format!("{name} (the command itself)"));
        }
        for a in shown_args(cmd) {
            if a.get_help().is_none() && a.get_long_help().is_none() {
                missing.push(format!("{name} {}", arg_name(a)));
            }
        }
    }
    missing
}

/// How `--help` names an argument: `<PATH>...`, `--tz <ZONE>`, `-o, --output <FILE>`, `--force`.
fn arg_name(a: &Arg) -> String {
    let values: Vec<String> = match a.get_value_names() {
        Some(v) => v.iter().map(|s| s.to_string()).collect(),
        None => vec![a.get_id().as_str().to_string()],
    };
    let takes_value = a.get_action().takes_values();
    let optional_value = a.get_num_args().is_some_and(|n| n.min_values() == 0);
    let many = a.get_num_args().is_some_and(|n| n.max_values() > 1);
    if a.is_positional() {
        let v = values.join("> <");
        let mut s = if a.is_required_set() {
            format!("<{v}>")
        } else {
            format!("[{v}]")
        };
        if many || matches!(a.get_action(), ArgAction::Append) {
            s.push_str("...");
        }
        return s;
    }
    let mut s = String::new();
    if let Some(c) = a.get_short() {
        let _ = write!(s, "-{c}");
    }
    if let Some(l) = a.get_long() {
        if !s.is_empty() {
            s.push_str(", ");
        }
        let _ = write!(s, "--{l}");
    }
    if takes_value {
        let v = values.join("> <");
        if optional_value {
            let _ = write!(s, " [<{v}>]");
        } else {
            let _ = write!(s, " <{v}>");
        }
        if many {
            s.push_str("...");
        }
    }
    s
}

/// What an argument's help leaves to clap: required, default, values, repetition.
fn facts(a: &Arg) -> (Vec<String>, Vec<PossibleValue>) {
    let mut f = Vec::new();
    if a.is_required_set() {
        f.push("Required.".to_string());
    }
    // A flag's implicit default (`false`, `0`) says nothing.
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .filter(|_| a.get_action().takes_values())
        .map(|d| format!("`{}`", d.to_string_lossy()))
        .collect();
    if !defaults.is_empty() {
        f.push(format!("Default: {}.", defaults.join(", ")));
    }
    if !a.is_positional() && matches!(a.get_action(), ArgAction::Append | ArgAction::Count) {
        f.push("Repeatable.".to_string());
    }
    if let Some(d) = a.get_value_delimiter() {
        f.push(format!("Several values may be given separated by `{d}`."));
    }
    if let Some(aliases) = a.get_visible_aliases() {
        let names: Vec<String> = aliases.iter().map(|x| format!("`--{x}`")).collect();
        f.push(format!("Alias: {}.", names.join(", ")));
    }
    let values: Vec<PossibleValue> = if a.get_action().takes_values() {
        a.get_possible_values()
            .into_iter()
            .filter(|v| !v.is_hide_set())
            .collect()
    } else {
        Vec::new()
    };
    if !values.is_empty() && values.iter().all(|v| v.get_help().is_none()) {
        let names: Vec<String> = values
            .iter()
            .map(|v| format!("`{}`", v.get_name()))
            .collect();
        f.push(format!("Values: {}.", names.join(", ")));
        return (f, Vec::new());
    }
    (f, values)
}

/// Escape what markdown would read as markup in a help text written as plain text: `<DIR>`
/// would be an HTML tag, `*` emphasis (`_` inside words and brackets without a link are
/// plain text to markdown, so they are left readable). Code spans (between backticks) are left as they are.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '*' | '\\' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A word markdown reads as the start of a block when it begins a line (followed by more
/// text): a list item (`-`, `+`, `*`, `2.`, `3)`), a heading (`#`), a quote (`>`), a rule or a
/// heading's underline (`---`, `===`), a table row (`|`). `--flag` is none of these.
fn starts_block(word: &str) -> bool {
    let digits = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let repeated = |c: char| word.chars().all(|x| x == c);
    word.starts_with(['>', '|'])
        || ['-', '+', '*', '#', '=', '_'].into_iter().any(repeated)
        || (digits.len() < word.len() && (digits == "." || digits == ")"))
}

/// Word-wrap `text` (one paragraph) at [`WIDTH`], the first line after `first` and the others
/// after `indent`. A word that markdown would read as a block start never begins a line.
fn wrap(out: &mut String, text: &str, first: &str, indent: &str) {
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.len() + 1 + word.len() > WIDTH && !starts_block(word) {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// Help text as paragraphs (clap keeps blank lines between the paragraphs of a doc comment).
/// A paragraph of lines that are indented, or a list, is kept line by line.
fn prose(out: &mut String, text: &str, first: &str, indent: &str) {
    let paras = text
        .trim()
        .split("\n\n")
        .map(str::trim_end)
        .filter(|p| !p.trim().is_empty());
    for (n, para) in paras.enumerate() {
        let lead = if n == 0 { first } else { indent };
        if n > 0 {
            out.push('\n');
        }
        let verbatim = para.lines().skip(1).any(|l| l.starts_with(' '))
            || para.lines().all(|l| l.trim_start().starts_with("- "));
        if verbatim {
            for (i, l) in para.lines().enumerate() {
                let pre = if i == 0 { lead } else { indent };
                let _ = writeln!(out, "{pre}{}", escape(l.trim_end()));
            }
        } else {
            wrap(out, &escape(&para.replace('\n', " ")), lead, indent);
        }
    }
}

/// `after_help`: examples (indented lines, under a line such as `Examples:`) as code blocks,
/// other paragraphs (exit codes, notes) as prose.
fn after_help(out: &mut String, text: &str) {
    for para in text.trim().split("\n\n").filter(|p| !p.trim().is_empty()) {
        let lines: Vec<&str> = para.lines().collect();
        let code_from = lines.iter().position(|l| l.starts_with("  "));
        out.push('\n');
        match code_from {
            Some(i) if lines[i..].iter().all(|l| l.starts_with("  ")) => {
                if i > 0 {
                    wrap(out, &escape(&lines[..i].join(" ")), "", "");
                    out.push('\n');
                }
                out.push_str("```text\n");
                for l in &lines[i..] {
                    let _ = writeln!(out, "{}", &l[2..].trim_end());
                }
                out.push_str("```\n");
            }
            Some(_) => {
                let _ = writeln!(out, "```text\n{}\n```", para.trim_end());
            }
            None => wrap(out, &escape(&lines.join(" ")), "", ""),
        }
    }
}

/// `text` ending as a sentence, so that what follows it in the same paragraph reads apart
/// (clap drops the final period of a one-paragraph doc comment).
fn sentence(text: &str) -> String {
    let t = text.trim_end();
    if t.is_empty() || t.ends_with(['.', '!', '?', ':']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

fn anchor(name: &str) -> String {
    name.replace(' ', "-")
}

fn help_of(a: &Arg) -> Option<String> {
    a.get_long_help().or(a.get_help()).map(|h| h.to_string())
}

fn render_arg(out: &mut String, a: &Arg) {
    let name = format!("- `{}`", arg_name(a));
    let help = help_of(a).unwrap_or_default();
    let (facts, values) = facts(a);
    let text = match (help.trim().is_empty(), facts.is_empty()) {
        (false, _) => sentence(&help),
        (true, false) => String::new(),
        (true, true) => "(no help text)".to_string(),
    };
    if text.is_empty() {
        wrap(out, &facts.join(" "), &format!("{name}: "), "  ");
    } else {
        prose(out, &text, &format!("{name}: "), "  ");
        if !facts.is_empty() {
            wrap(out, &facts.join(" "), "  ", "  ");
        }
    }
    for v in values {
        let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
        let lead = format!("  - `{}`", v.get_name());
        if help.is_empty() {
            let _ = writeln!(out, "{lead}");
        } else {
            prose(out, &help, &format!("{lead}: "), "    ");
        }
    }
}

fn render_command(out: &mut String, cmd: &Command, root: bool) {
    let name = full_name(cmd);
    let _ = writeln!(out, "\n## `{name}`\n");
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        prose(out, &sentence(&about.to_string()), "", "");
        out.push('\n');
    }
    let usage = cmd.clone().render_usage().to_string();
    let _ = writeln!(out, "```text\n{}\n```", usage.trim_end());

    // The root's commands are the table of contents at the top.
    let subs: Vec<&Command> = shown_subcommands(cmd).collect();
    if !subs.is_empty() && !root {
        out.push_str("\nCommands:\n\n");
        for s in &subs {
            let sname = full_name(s);
            let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
            wrap(
                out,
                &escape(&about),
                &format!("- [`{}`](#{}): ", s.get_name(), anchor(&sname)),
                "  ",
            );
        }
    }
    let args: Vec<&Arg> = shown_args(cmd).collect();
    let (positional, options): (Vec<&Arg>, Vec<&Arg>) =
        args.into_iter().partition(|a| a.is_positional());
    if !positional.is_empty() {
        out.push_str("\nArguments:\n\n");
        for a in positional {
            render_arg(out, a);
        }
    }
    if !options.is_empty() {
        out.push_str("\nOptions:\n\n");
        for a in options {
            render_arg(out, a);
        }
    }
    if let Some(after) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        after_help(out, &after.to_string());
    }
}

/// The whole reference as markdown.
fn reference(root: &Command) -> String {
    let mut cmds = Vec::new();
    walk(root, &mut cmds);
    let mut out = String::new();
    out.push_str("# Command-line reference\n\n");
    out.push_str(
        "<!-- Generated from the clap definition (src/cli.rs, src/cmd/*.rs) by\n     \
         tests/it/cli_reference.rs: do not edit by hand. Refresh it with\n     \
         AGENTMETER_UPDATE_DOCS=1 cargo test --test it cli_reference (or scripts/regen-docs.sh). -->\n\n",
    );
    wrap(
        &mut out,
        "Every command, as its `--help` describes it. Each also takes `-h` (a summary) and \
         `--help` (the full text); `agentmeter --version` prints the version.",
        "",
        "",
    );
    out.push('\n');
    for cmd in &cmds[1..] {
        let depth = full_name(cmd).matches(' ').count();
        let indent = "  ".repeat(depth - 1);
        let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
        wrap(
            &mut out,
            &escape(&about),
            &format!(
                "{indent}- [`{}`](#{}): ",
                full_name(cmd),
                anchor(&full_name(cmd))
            ),
            &format!("{indent}  "),
        );
    }
    for (i, cmd) in cmds.iter().enumerate() {
        render_command(&mut out, cmd, i == 0);
    }
    out
}

/// The first line where `a` and `b` differ (1-based), with both lines.
fn first_difference(a: &str, b: &str) -> (usize, String, String) {
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => return (n, String::new(), String::new()),
            (x, y) => {
                let show = |l: Option<&str>| l.map_or("(end of file)".into(), |l| format!("{l:?}"));
                return (n, show(x), show(y));
            }
        }
    }
}

#[test]
fn cli_reference_matches_the_clap_definition() {
    let want = reference(&cli());
    let path = doc_path();
    if std::env::var_os("AGENTMETER_UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        let (line, in_file, generated) = first_difference(&have, &want);
        panic!(
            "docs/reference/cli.md is out of date with the clap definition \
             (first difference at line {line}:\n  file:      {in_file}\n  generated: {generated})\n\
             refresh it: {REFRESH}"
        );
    }
}

#[test]
fn cli_reference_every_argument_and_command_has_help() {
    let missing = missing_help(&cli());
    assert!(
        missing.is_empty(),
        "{} argument(s) or command(s) have no help text (write a doc comment on each in \
         src/cli.rs or src/cmd/*.rs):\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

/// The walk reaches nested commands and every argument kind, and the help check finds what
/// it should (so the two tests above can fail).
#[test]
fn cli_reference_walks_nested_commands_and_finds_missing_help() {
    let page = reference(&cli());
    for heading in [
        "## `agentmeter meter`",
        "## `agentmeter pricing list`",
        "## `agentmeter contract check`",
        "## `agentmeter man`",
    ] {
        assert!(page.contains(heading), "no {heading:?} in the reference");
    }
    // A default and the possible values of a value enum: `meter --format`.
    let meter = &page[page.find("## `agentmeter meter`").unwrap()..];
    let format = &meter[meter
        .find("- `-f, --format <FORMAT>`")
        .expect("meter --format")..];
    let format = &format[..format.find("\n- ").unwrap_or(format.len())];
    assert!(format.contains("Default: `table`."), "{format}");
    assert!(format.contains("`json`"), "{format}");
    assert!(
        !page.contains("--version <"),
        "clap's own flags are left out"
    );

    let mut toy = Command::new("toy")
        .disable_help_subcommand(true)
        .about("A toy.")
        .arg(Arg::new("quiet").long("quiet").action(ArgAction::SetTrue))
        .arg(
            Arg::new("level")
                .long("level")
                .help("How loud.")
                .default_value("3"),
        )
        .subcommand(Command::new("sub").arg(Arg::new("path").required(true)));
    toy.build();
    assert_eq!(
        missing_help(&toy),
        [
            "toy --quiet",
            "toy sub (the command itself)",
            "toy sub <path>"
        ]
    );
    let page = reference(&toy);
    assert!(
        page.contains("- `--level <level>`: How loud.\n  Default: `3`.\n"),
        "{page}"
    );
    assert!(page.contains("- `--quiet`: (no help text)\n"), "{page}");
}

#[test]
fn cli_reference_wraps_prose_at_a_fixed_width() {
    let mut out = String::new();
    let text = "word ".repeat(60);
    wrap(&mut out, &text, "- `--x`: ", "  ");
    assert!(out.lines().count() > 2, "{out}");
    for l in out.lines() {
        assert!(l.len() <= WIDTH, "{l:?} is wider than {WIDTH}");
    }
    // "-" and "2." would start a list item at the beginning of a line: each stays on the line
    // before; "--flag" may begin one.
    for word in ["-", "2.", "#", "---", ">x"] {
        let mut out = String::new();
        wrap(
            &mut out,
            &format!("{} {word} more", "a".repeat(WIDTH - 2)),
            "",
            "",
        );
        assert_eq!(out, format!("{} {word}\nmore\n", "a".repeat(WIDTH - 2)));
    }
    let mut out = String::new();
    wrap(
        &mut out,
        &format!("{} --flag", "a".repeat(WIDTH - 2)),
        "",
        "",
    );
    assert_eq!(out, format!("{}\n--flag\n", "a".repeat(WIDTH - 2)));
    assert_eq!(escape("a <DIR> `x<y>` *b*"), "a &lt;DIR&gt; `x<y>` \\*b\\*");
}
