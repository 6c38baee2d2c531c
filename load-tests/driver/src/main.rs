//! Load drivers: push dispatches through the real API and report hdrhistogram percentiles.

fn main() {}
