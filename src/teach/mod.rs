//! The teaching layer on top of the simulator: docker's converge progress,
//! the interactive shell, `run --play`, and the visual timeline.

pub mod display;
pub mod play;
pub mod progress;
pub mod session;
pub mod shell;
pub mod timeline;
