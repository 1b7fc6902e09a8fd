//! Tests of the `hookd` binary as a user runs it: as a separate process.

mod cli;
mod config;
mod crash;
mod first_start;
mod generated;
mod listen;
mod logs;
mod multinode;
mod package;
mod process;
mod prune;
mod readme;
mod sdk;
mod secret_key;
mod spec;
