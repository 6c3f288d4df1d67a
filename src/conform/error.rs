//! The error of the conformance layer (`conform`, `record`, `calibrate`,
//! `snapshot`): a real engine's, the docker CLI's or a trace's failure,
//! with what was being done when it happened. Displays as
//! `context: context: cause`.

use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum ConformError {
    /// `source` happened while doing `context`.
    #[error("{context}: {source}")]
    Context {
        context: String,
        source: Box<ConformError>,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// The engine, the docker CLI, a trace or a recording said something
    /// the suite cannot use.
    #[error("{0}")]
    Unexpected(String),
}

pub type Result<T, E = ConformError> = std::result::Result<T, E>;

/// Adds what was being done to an error: `.context("cleaning the swarm")`.
pub trait Context<T> {
    fn context(self, context: impl Display) -> Result<T>;
    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<ConformError>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|e| ConformError::Context {
            context: context.to_string(),
            source: Box::new(e.into()),
        })
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| ConformError::Context {
            context: context().to_string(),
            source: Box::new(e.into()),
        })
    }
}

/// Returns [`ConformError::Unexpected`] with a formatted message.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::conform::ConformError::Unexpected(format!($($arg)*)))
    };
}
pub(crate) use bail;

/// A [`ConformError::Unexpected`] with a formatted message.
macro_rules! unexpected {
    ($($arg:tt)*) => {
        $crate::conform::ConformError::Unexpected(format!($($arg)*))
    };
}
pub(crate) use unexpected;
