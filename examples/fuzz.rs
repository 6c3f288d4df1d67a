//! The seeded mutation fuzzer of the scenario loader and the docker
//! command parser (`swarmsim::fuzz`), for long runs:
//!
//! ```text
//! cargo run --release --example fuzz -- [--seconds 600] [--seed 1] [--out DIR]
//! ```
//!
//! Prints what it ran and every finding (a panic, an input over 5 s, or a
//! memory peak over 2 GiB); findings are written to DIR (default
//! `target/fuzz-findings`). Exit status 1 when anything was found.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use swarmsim::fuzz::{Budget, corpus, fuzz};

fn main() {
    let mut seconds = 60u64;
    let mut seed = 1u64;
    let mut out = PathBuf::from("target/fuzz-findings");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--seconds" => seconds = v.parse().expect("--seconds N"),
            "--seed" => seed = v.parse().expect("--seed N"),
            "--out" => out = PathBuf::from(v),
            other => {
                eprintln!(
                    "unknown argument {other}; usage: fuzz [--seconds N] [--seed N] [--out DIR]"
                );
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (scenarios, docker) = corpus(&[root.join("scenarios"), root.join("tests")]);
    eprintln!(
        "corpus: {} scenario files, {} docker lines; seed {seed}; {seconds} s",
        scenarios.len(),
        docker.len()
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let report = fuzz(
        seed,
        u64::MAX,
        Some(deadline),
        &scenarios,
        &docker,
        &Budget::default(),
    );
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} inputs in {elapsed:.1} s ({:.0}/s): {} scenarios, {} docker lines; {} accepted and simulated; slowest {:.3} s; peak memory {} KiB; {} findings",
        report.inputs,
        report.inputs as f64 / elapsed,
        report.scenario_inputs,
        report.docker_inputs,
        report.accepted,
        report.slowest_s,
        report.peak_kib.map_or("?".to_string(), |k| k.to_string()),
        report.findings.len()
    );
    if report.findings.is_empty() {
        return;
    }
    let _ = std::fs::create_dir_all(&out);
    for (k, f) in report.findings.iter().enumerate() {
        let name = out.join(format!("finding-{k:03}-{:?}.txt", f.target).to_lowercase());
        let _ = std::fs::write(&name, &f.input);
        println!("{:?}: {} ({})", f.target, f.what, name.display());
    }
    std::process::exit(1);
}
