use std::process::ExitCode;

use clap::Parser;
use swarmsim::cli::{Cli, run};

/// A run makes and frees many small objects (tasks, ids, slot lists); a
/// batch does so millions of times on every core. mimalloc's per-thread
/// free lists serve that pattern far better than glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process. mimalloc reserves its
/// arena as one large mapping; where the kernel backs it with 2 MiB pages
/// (`/sys/kernel/mm/transparent_hugepage/enabled` set to `always`, as on
/// many distributions) every touched 4 KiB costs a 2 MiB page, so a big
/// run's peak memory was up to twice its heap (P1: 45-60 MB against 33 MB
/// with 4 KiB pages; docs/development.md#benchmarks). This is what
/// mimalloc's own `MIMALLOC_ALLOW_THP=0` does, which it reads only from
/// the environment.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and only
    // sets a flag of the calling process; a failure (an old kernel)
    // leaves things as they were.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    no_transparent_huge_pages();
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
