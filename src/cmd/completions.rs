//! `agentmeter completions SHELL` and `agentmeter man`: generated from the one clap definition
//! (`Cli::command()`), so they cannot drift from the commands.

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::output::Output;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    agentmeter completions bash > ~/.local/share/bash-completion/completions/agentmeter\n  \
    agentmeter completions zsh > ~/.zfunc/_agentmeter\n  \
    agentmeter completions fish > ~/.config/fish/completions/agentmeter.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    agentmeter man | man -l -\n  \
    agentmeter man --dir ~/.local/share/man/man1")]
pub struct ManArgs {
    /// Write one page per command (agentmeter.1, agentmeter-meter.1, ...) into DIR, an existing
    /// directory, instead of the main page on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Replace pages already in DIR.
    #[arg(long)]
    pub force: bool,
}

pub fn completions(args: CompletionsArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    Output::new(None, false).write_with(|w| {
        clap_complete::generate(args.shell, &mut cmd, "agentmeter", w);
        Ok(())
    })?;
    Ok(0)
}

pub fn man(args: ManArgs) -> Result<i32> {
    // Built so that subcommands carry their full names (agentmeter-pricing-list), as pages do.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match &args.dir {
        None => Output::new(None, false).write_with(|w| Man::new(cmd).render(w))?,
        Some(dir) => pages(&cmd, dir, args.force)?,
    }
    Ok(0)
}

fn pages(cmd: &clap::Command, dir: &Path, force: bool) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::new(format!("{}: not a directory", dir.display()))
            .with_hint("create it first, e.g. mkdir -p man/man1"));
    }
    let man = Man::new(cmd.clone());
    Output::new(Some(&dir.join(man.get_filename())), force).write_with(|w| man.render(w))?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages(sub, dir, force)?;
    }
    Ok(())
}
