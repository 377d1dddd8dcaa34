//! `keyward`: Keyward's command-line companion. See README.md for commands, JSON shapes and exit
//! codes.

mod cli;
mod commands;
mod host;
mod output;

use clap::Parser;
use output::Exit;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let json = cli.json;
    match commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(error) => {
            output::report_error(&error, json);
            Exit::Failed(error.code()).into()
        }
    }
}
