//! Typed configuration of the sendbox engine, its validation, and the shipped example files.
