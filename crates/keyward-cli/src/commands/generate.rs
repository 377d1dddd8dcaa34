//! `keyward generate completions <SHELL>` and `keyward generate man`: the shell completions and
//! the man page, made from the same clap definitions that parse the command line, so they never
//! drift from it. Hidden from `--help`: scripts/package runs them and the packages install the
//! results (see packaging/README.md).

use crate::cli::{Cli, GenerateCommand};
use crate::output::{self, Exit};
use clap::CommandFactory;
use keyward_core::{Error, Result};

pub fn run(command: GenerateCommand) -> Result<Exit> {
    let mut cli = Cli::command();
    let mut text = Vec::new();
    match command {
        GenerateCommand::Completions { shell } => {
            clap_complete::generate(shell, &mut cli, "keyward", &mut text)
        }
        GenerateCommand::Man => clap_mangen::Man::new(cli)
            .render(&mut text)
            .map_err(output::write_failed)?,
    }
    let text = String::from_utf8(text)
        .map_err(|e| Error::Unexpected(format!("generated text is not UTF-8: {e}")))?;
    output::print(&text)?;
    Ok(Exit::Ok)
}
