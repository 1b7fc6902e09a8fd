//! The `hookd` binary: a shim over the library, so tests can drive the same code.

fn main() -> std::process::ExitCode {
    hookd::main()
}
