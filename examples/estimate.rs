//! Prints the estimate of a production plan.
//!
//! ```sh
//! cargo run --example estimate -- tests/fixtures/plans/S8.json
//! cargo run --example estimate -- --csv --lang zh-CN tests/fixtures/plans/S1.json
//! ```
//!
//! The output is the [`Estimate`] as pretty JSON: every amount appears as micro-units and as a
//! display string (`{"currency":"USD","micros":777100000,"display":"$777.10"}`). With `--csv`
//! it is the spreadsheet the page downloads. A missing or invalid file exits with status 1 and
//! says why on stderr, one line per invalid field.

use std::process::ExitCode;

use duanju_studio::domain::cost::estimate::{estimate, Estimate, PriceBook};
use duanju_studio::domain::cost::estimate_csv::estimate_to_csv;
use duanju_studio::domain::cost::plan::ProductionPlan;
use duanju_studio::domain::i18n::Lang;

const USAGE: &str = "usage: cargo run --example estimate -- [--csv] [--lang zh-CN|en] PLAN.json";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(output) => {
            // The CSV already ends its last line; JSON does not.
            if output.ends_with('\n') {
                print!("{output}");
            } else {
                println!("{output}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the arguments and the plan, and renders the estimate.
fn run(args: Vec<String>) -> Result<String, String> {
    let mut csv = false;
    let mut lang = Lang::En;
    let mut path = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--csv" => csv = true,
            "--lang" => {
                let tag = args.next().ok_or(USAGE)?;
                lang = Lang::from_tag(&tag)
                    .ok_or_else(|| format!("unknown language {tag:?}\n{USAGE}"))?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ if path.is_none() && !arg.starts_with("--") => path = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}\n{USAGE}")),
        }
    }
    let path = path.ok_or(USAGE)?;
    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("cannot read {path}: {error}"))?;
    let plan = ProductionPlan::from_json(&text)
        .map_err(|error| format!("{path}: {}", error.message(lang)))?;
    let estimate: Estimate = estimate(&plan, &PriceBook::defaults())
        .map_err(|error| format!("{path}: {}", error.message(lang)))?;
    for warning in &estimate.warnings {
        eprintln!("warning: {}", warning.message(lang));
    }
    if csv {
        Ok(estimate_to_csv(&estimate, lang))
    } else {
        serde_json::to_string_pretty(&estimate).map_err(|error| error.to_string())
    }
}
