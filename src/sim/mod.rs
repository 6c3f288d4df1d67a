//! The simulation kernel: integer time, the event queue, seeded RNG
//! streams. Knows nothing about Docker.

pub mod queue;
pub mod rng;
pub mod time;
