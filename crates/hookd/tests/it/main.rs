//! Tests of the `hookd` binary as a user runs it: as a separate process.

mod cli;
mod crash;
mod listen;
mod multinode;
mod process;
mod prune;
mod sdk;
mod secret_key;
mod spec;
