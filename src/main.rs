use std::process::ExitCode;

use clap::Parser;
use swarmsim::cli::{Cli, run};

/// A run makes and frees many small objects (tasks, ids, slot lists); a
/// batch does so millions of times on every core. mimalloc's per-thread
/// free lists serve that pattern far better than glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors
            // exit 2 (`docs/scenario-format.md#errors`).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // The one place where an error becomes an exit status.
    let status = match run(cli) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_status()
        }
    };
    ExitCode::from(status.code())
}
