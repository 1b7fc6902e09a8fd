//! Help generated from the code: each option flag's default and variable, and the man pages.

use std::path::Path;

use hookd_server::config::RawConfig;

/// A flag's help that sets the config option `option`: what it does, then its default and its
/// variable, the way clap shows its own. (Clap's `default_value` and `env` would turn every
/// default and variable into a flag's value, so neither a config file nor `hookd config
/// check` could tell where a value came from.)
pub fn option_help(what: &str, option: &str) -> String {
    format!(
        "{what} [default: {}] [env: HOOKD_{}]",
        default_of(option),
        option.to_ascii_uppercase()
    )
}

/// The default of `option` as an operator writes it.
fn default_of(option: &str) -> String {
    let defaults = serde_json::to_value(RawConfig::default()).expect("the defaults serialize");
    match &defaults[option] {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "none".into(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_owned)
            })
            .collect::<Vec<_>>()
            .join(","),
        serde_json::Value::Null => "unset".into(),
        other => other.to_string(),
    }
}

/// `hookd man`: the page of `hookd` on standard output, or with `out_dir` one page per
/// command written there (`hookd.1`, `hookd-serve.1`, ...), as a package installs them.
pub fn man(
    command: clap::Command,
    out_dir: Option<&Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .map_err(|e| format!("cannot write the man pages to {}: {e}", dir.display()))?;
        }
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout())?,
    }
    Ok(())
}
