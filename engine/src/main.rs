//! `sendbox`: the dispatch engine's command line.
fn main() {}
