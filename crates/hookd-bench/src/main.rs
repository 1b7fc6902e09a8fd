//! The `hookd-bench` binary: a shim over the library.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Parser;
use hookd_bench::{Report, run};

mod cli;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let scenario = cli.scenario;
    let options = cli.options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(run(scenario, &options)) {
        Ok(report) => {
            println!("{}", Report::table_header());
            println!("{}", report.table_row());
            println!("{}", report.json_line());
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut text = format!("hookd-bench: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                let _ = write!(text, ": {cause}");
                source = cause.source();
            }
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}
