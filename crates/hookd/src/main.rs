//! The `hookd` binary: a shim over the library, so tests can drive the same code.

#![forbid(unsafe_code)]

// jemalloc instead of glibc's malloc: about 6 % less CPU per event under load (docs/performance.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    hookd::main()
}
