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

use crate::export::Format;
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
