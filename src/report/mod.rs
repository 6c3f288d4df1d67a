//! Pure renderers: cluster state in, docker CLI text or result files out.
