//! Pure renderers of docker's output: cluster state in, the text the
//! docker CLI prints out (`service ps`, `service ls`, `node ls`,
//! `service inspect --pretty`, Go's tabwriter, docker's time phrases).

pub mod inspect;
pub mod ls;
pub mod ps;
pub mod tabwriter;
pub mod text;

#[cfg(test)]
mod fixtures;
