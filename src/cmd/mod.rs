//! One file per subcommand (as xsv has them): argument struct + `run`.

pub mod anomalies;
pub mod baseline;
pub mod check;
pub mod compare;
pub mod completions;
pub mod contract;
pub mod export;
pub mod fetch;
pub mod fit;
pub mod meter;
pub mod pricing;
pub mod project;
pub mod reconcile;
pub mod report;
pub mod simulate;
pub mod watch;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::export::Format;
use crate::files::MAX_SMALL_FILE;
use crate::meter::{MeterOptions, ShardBy};

/// `--format` of the commands that write tables (compare, project, reconcile, anomalies): the
/// formats they have, so clap refuses any other with the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Aligned terminal tables, amounts to the cent.
    #[default]
    Table,
    /// JSON (the command's own schema), amounts unrounded.
    Json,
    /// The tables as GitHub-flavoured markdown.
    Markdown,
}

/// Text a table command writes, its changes coloured when it goes to stdout as a table (and
/// colour is on).
pub fn painted(out: &crate::output::Output, format: TableFormat, text: String) -> String {
    if out.path().is_none() && format == TableFormat::Table {
        crate::terminal::paint_changes(text)
    } else {
        text
    }
}

/// `--pricing FILE`, on the commands that price with one table (the bundled one by default).
#[derive(clap::Args, Debug, Default)]
pub struct PricingArg {
    /// Price table (TOML); default: the bundled pricing/anthropic.toml.
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<std::path::PathBuf>,
}

impl PricingArg {
    pub fn load(&self) -> crate::error::Result<crate::pricing::PriceTable> {
        crate::pricing::PriceTable::load_or_bundled(self.pricing.as_deref())
    }
}

/// `--contract FILE`, on the commands that say what the user pays (meter, export, report,
/// check, baseline, reconcile, project): one definition, loaded and checked against the
/// command's price table.
/// A command whose use of it needs saying sets its help with
/// `#[command(mut_arg("contract", |a| a.help(ContractArg::help("..."))))]`.
#[derive(clap::Args, Debug, Default)]
pub struct ContractArg {
    #[arg(long, value_name = "FILE", help = ContractArg::help(
        "list and contracted amounts side by side, and what is billed after its commitments and credits."
    ))]
    pub contract: Option<PathBuf>,
}

impl ContractArg {
    /// The flag's help: what a contract is, then `what` it does on the command.
    pub fn help(what: &str) -> String {
        format!("A contract (TOML: discounts, monthly commitments, credits; `agentmeter contract check FILE` lists its problems), applied after rating: {what}")
    }

    /// The contract, its warnings shown; `None` without the flag.
    pub fn load(
        &self,
        table: &crate::pricing::PriceTable,
    ) -> Result<Option<crate::contract::Contract>> {
        crate::pipeline::load_contract(self.contract.as_deref(), table)
    }
}

/// `--format`, `-o` and `--force`: where and how a command that writes tables writes them.
#[derive(clap::Args, Debug)]
pub struct TableOutput {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Overwrite the --output file (and replace a --report, where there is one) if it exists.
    #[arg(long)]
    pub force: bool,
}

impl From<TableFormat> for Format {
    fn from(f: TableFormat) -> Format {
        match f {
            TableFormat::Table => Format::Table,
            TableFormat::Json => Format::Json,
            TableFormat::Markdown => Format::Markdown,
        }
    }
}

/// `--default-inference-geo`, on every command that meters exports.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct GeoArgs {
    /// The workspace's default_inference_geo, which an export cannot show: the geo of
    /// requests whose agent sets no model.inference_geo. `us` prices them with the US-only
    /// inference multiplier where the price table applies it; a geo in the export wins.
    #[arg(long, value_name = "GEO", value_parser = ["us", "global"])]
    pub default_inference_geo: Option<String>,
}

impl GeoArgs {
    /// The defaults, with this geo and progress on the terminal (for commands run by people).
    pub fn meter_options(&self) -> MeterOptions {
        MeterOptions {
            default_inference_geo: self.default_inference_geo.clone(),
            progress: crate::terminal::progress(),
            ..MeterOptions::default()
        }
    }
}

/// `--files-from FILE`, on the commands that read exports: more PATHs, one per line.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct FilesFromArgs {
    /// Also read input paths from FILE, one per line (- for stdin; blank lines ignored;
    /// relative paths are from the current directory), each taken as a PATH is: for lists
    /// too long for a command line, such as one executor's part of a fleet.
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<PathBuf>,
}

impl FilesFromArgs {
    /// `paths`, then the list's paths in its order. A listed path that does not exist, or is
    /// neither a regular file nor a directory, is an error naming the list and its line.
    pub fn paths(&self, paths: &[String]) -> Result<Vec<String>> {
        let Some(list) = &self.files_from else {
            return Ok(paths.to_vec());
        };
        let stdin = list.as_os_str() == "-";
        if stdin && paths.iter().any(|p| p == "-") {
            return Err(Error::new(
                "--files-from - and the PATH - both read stdin: give one of them",
            ));
        }
        let (name, text) = if stdin {
            ("<stdin>".to_string(), read_list_from_stdin()?)
        } else {
            let text =
                crate::files::read_text(list, MAX_SMALL_FILE, "a list of paths").map_err(|e| {
                    e.with_hint(
                        "--files-from reads a regular file; pipe a stream to --files-from -",
                    )
                })?;
            (list.display().to_string(), text)
        };
        let mut all = paths.to_vec();
        for (n, line) in text.lines().enumerate() {
            let at = format!("{name}:{}", n + 1);
            if line.trim().is_empty() {
                continue;
            }
            if line == "-" {
                return Err(Error::new(format!(
                    "{at}: `-` in a list of paths: stdin is read only as a PATH argument"
                )));
            }
            let meta = std::fs::metadata(line).map_err(|e| {
                let err = Error::new(format!("{at}: {line}: {e}"));
                if Path::new(line).is_relative() {
                    err.with_hint("relative paths in a --files-from list are from the current directory, not the list's")
                } else {
                    err
                }
            })?;
            if !meta.is_file() && !meta.is_dir() {
                return Err(Error::new(format!(
                    "{at}: {line}: not a regular file or a directory (a FIFO, device or socket)"
                )));
            }
            all.push(line.to_string());
        }
        if all.is_empty() {
            return Err(Error::new(format!(
                "no input: {name} lists no paths, and no PATH is given"
            )));
        }
        Ok(all)
    }
}

/// `--files-from -`: stdin whole, with the small-file reader's bound.
fn read_list_from_stdin() -> Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_SMALL_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::new(format!("<stdin>: {e}")))?;
    if bytes.len() as u64 > MAX_SMALL_FILE {
        return Err(Error::new(format!(
            "<stdin>: more than the {MAX_SMALL_FILE} bytes a list of paths may have"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        Error::new(format!("<stdin>:{line}: invalid UTF-8"))
    })
}

/// `--shard I/N` and `--shard-by`, on the commands that can run as one of N jobs.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ShardArgs {
    /// Take only shard I of N (1-based): N jobs that each take one shard cover the inputs
    /// together, with no overlap. By file (the default), a job opens only its own files.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// What --shard splits: whole files by a stable hash of their names (each job reads about
    /// 1/N of the bytes; a session split over files of different shards is counted by each,
    /// so merged outputs show its id twice), or sessions by a stable hash of their ids (for
    /// exports that interleave sessions in big files; every job reads everything).
    #[arg(long, value_enum, default_value = "file", requires = "shard")]
    pub shard_by: ShardByArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShardByArg {
    #[default]
    File,
    Session,
}

impl ShardArgs {
    /// These flags on `opts`.
    pub fn apply(&self, opts: MeterOptions) -> MeterOptions {
        MeterOptions {
            shard: self.shard,
            shard_by: match self.shard_by {
                ShardByArg::File => ShardBy::File,
                ShardByArg::Session => ShardBy::Session,
            },
            ..opts
        }
    }
}

/// "2/8" -> (2, 8).
pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s:?}: expected I/N with 1 <= I <= N, e.g. 2/8");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.trim().parse::<u32>().map_err(|_| bad())?,
        n.trim().parse::<u32>().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}
