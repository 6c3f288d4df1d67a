//! The errors of docker command lines, in docker's own words: pflag's
//! flag errors, docker/cli's argument and value errors, and the commands
//! or flags docker has that swarmsim does not model.

/// pflag's `invalid argument "VALUE" for "FLAG" flag: REASON`: a flag
/// whose value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid argument \"{value}\" for \"{flag}\" flag: {reason}")]
pub struct InvalidArgument {
    pub value: String,
    /// As pflag names it: `--name`, or `-e, --env`.
    pub flag: String,
    pub reason: String,
}

impl InvalidArgument {
    pub fn new(
        value: impl Into<String>,
        flag: impl Into<String>,
        reason: impl std::fmt::Display,
    ) -> Self {
        InvalidArgument {
            value: value.into(),
            flag: flag.into(),
            reason: reason.to_string(),
        }
    }
}

/// A value docker refuses (a size, a CPU count, a port, a constraint…),
/// with docker's text; a flag wraps it in [`InvalidArgument`], a scenario
/// file in its file:line:column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl From<String> for ValueError {
    fn from(s: String) -> Self {
        ValueError(s)
    }
}

impl From<&str> for ValueError {
    fn from(s: &str) -> Self {
        ValueError(s.to_string())
    }
}

/// A docker command line that docker would refuse, or that swarmsim does
/// not model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// pflag: a long flag the command does not have.
    #[error("unknown flag: --{0}")]
    UnknownFlag(String),
    /// pflag: a shorthand the command does not have.
    #[error("unknown shorthand flag: '{short}' in {arg}")]
    UnknownShorthand { short: char, arg: String },
    /// pflag: a value flag at the end of the line (`--name`, `'e' in -e`).
    #[error("flag needs an argument: {0}")]
    NeedsArgument(String),
    /// A flag docker has and swarmsim does not model.
    #[error("flag --{0} is not supported by swarmsim")]
    UnsupportedFlag(&'static str),
    #[error(transparent)]
    InvalidArgument(#[from] InvalidArgument),
    /// A quote left open (the line is split like a shell splits it).
    #[error("{0}")]
    Quote(&'static str),
    /// docker's refusal of the arguments or of a combination of flags
    /// (`"docker service update" requires exactly 1 argument.`…), or of a
    /// command docker does not have.
    #[error("{0}")]
    Refused(String),
    /// A docker command, mode or filter swarmsim does not model.
    #[error("{0}")]
    NotModelled(String),
}
