//! The error a command ends with, and the exit status it maps to
//! (`docs/regression.md#exit-statuses`).
//!
//! Each layer has its own error type, which displays the text the user
//! reads: [`crate::scenario::ScenarioError`] (file:line:column),
//! [`crate::docker::cli::CliError`] (docker's and pflag's own texts),
//! [`crate::fsio::ReadError`], [`crate::batch::BatchError`],
//! [`crate::sweep::SweepError`], [`crate::regress::RegressError`],
//! [`crate::conform::ConformError`], [`crate::limits::LimitError`]. The
//! command line gathers them in [`Error`]; `main` prints it after
//! `error: ` and exits with [`Error::exit_status`].

use std::path::PathBuf;

/// Exit statuses (`docs/regression.md#exit-statuses`): 0 success, 1 an
/// expectation failed (or `diff` found a difference, or `lint --deny` a
/// denied warning), 2 bad input; `run --fail-on` adds 3 to 6
/// ([`crate::regress::outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    Failure,
    BadInput,
    /// A `--fail-on` outcome: 3 paused, 4 rollback, 5 rollback_paused,
    /// 6 updating.
    Outcome(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::BadInput => 2,
            ExitStatus::Outcome(c) => c,
        }
    }
}

/// Why a command could not do its work. Every variant is bad input (exit
/// status 2): the simulator itself has no failure a user can cause that
/// is not a mistake in what they gave it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    #[error(transparent)]
    Batch(#[from] crate::batch::BatchError),
    #[error(transparent)]
    Sweep(#[from] crate::sweep::SweepError),
    #[error(transparent)]
    Regress(#[from] crate::regress::RegressError),
    /// `conform`, `record`, `calibrate`, `snapshot`: a real engine's or
    /// a trace's error with its context (`context: cause`).
    #[error(transparent)]
    Conform(#[from] crate::conform::ConformError),
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitError),
    #[error(transparent)]
    Mutant(#[from] crate::mutant::UnknownMutant),
    /// A flag's value refused in pflag's words.
    #[error(transparent)]
    InvalidArgument(#[from] crate::docker::cli::InvalidArgument),
    /// An input file that cannot be read.
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: crate::fsio::ReadError,
    },
    /// A result file or folder that cannot be written.
    #[error("{}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The terminal or pipe of `shell` failed.
    #[error("{0}")]
    Terminal(std::io::Error),
    /// Flags that do not go together, or a required one missing.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// The exit status: every error is bad input (2).
    pub fn exit_status(&self) -> ExitStatus {
        ExitStatus::BadInput
    }

    /// An output path that could not be written.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::band::Band;
    use crate::batch::cmd::parse_shard;
    use crate::batch::output::parse_runs_csv;
    use crate::swarm::controlapi::ControlApiError;

    /// Texts the integration tests do not reach, as they were written
    /// before they became typed errors.
    #[test]
    fn layer_errors_keep_their_texts() {
        assert_eq!(
            parse_shard("5/4").unwrap_err().to_string(),
            r#"invalid --shard "5/4": expected I/N with 0 <= I < N, e.g. 0/4"#
        );
        assert_eq!(
            parse_runs_csv("").unwrap_err().to_string(),
            "runs.csv is empty"
        );
        assert_eq!(
            parse_runs_csv("seed,x").unwrap_err().to_string(),
            "runs.csv: not a swarmsim batch header"
        );
        assert_eq!(
            Band::from_csv("nope", &[]).unwrap_err().to_string(),
            "band.csv: unexpected header"
        );
        assert_eq!(
            Band::from_csv("service,kind,t_s,running,count\nweb,at,x", &["web".into()])
                .unwrap_err()
                .to_string(),
            r#"band.csv: line 2: cannot read "web,at,x""#
        );
        assert_eq!(
            ControlApiError::RemoveManager("abc".into()).to_string(),
            "Error response from daemon: rpc error: code = FailedPrecondition desc = node abc is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal\n"
        );
        assert_eq!(
            ControlApiError::NodeNotFound("w9".into()).to_string(),
            "Error response from daemon: node w9 not found\n"
        );
        assert_eq!(
            ControlApiError::NodeStopped("w1".into()).to_string(),
            "node w1 is stopped: it cannot run docker swarm leave"
        );
        let lost = Error::from(crate::batch::BatchError::LostRuns {
            file: PathBuf::from("s.yaml"),
            got: 3,
            want: 4,
        });
        assert_eq!(
            lost.to_string(),
            "s.yaml: internal error: 3 of 4 runs came back"
        );
        assert_eq!(
            Error::from(crate::regress::RegressError::NotFound("x".into())).to_string(),
            "x: no such file or folder"
        );
    }

    #[test]
    fn every_error_is_bad_input() {
        let e = Error::Usage("--require needs --minimize".into());
        assert_eq!(e.exit_status(), ExitStatus::BadInput);
        assert_eq!(e.exit_status().code(), 2);
    }
}
