//! One file per subcommand (as xsv has them): argument struct + `run`.

pub mod baseline;
pub mod check;
pub mod compare;
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

use crate::meter::MeterOptions;

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
    /// [`MeterOptions::with_progress`] with this geo.
    pub fn meter_options(&self) -> MeterOptions {
        MeterOptions {
            default_inference_geo: self.default_inference_geo.clone(),
            ..MeterOptions::with_progress()
        }
    }
}
