//! Config loading: the defaults, then a TOML file, then `HOOKD_*` variables, then flags; checked
//! once into the server's typed `Config`. Nothing here touches the disk but reading the file.
//!
//! Each layer is a figment provider that names itself, so an error, and `hookd config check`,
//! can say where a value came from: `default`, the file's path, `HOOKD_LISTEN`, or `--listen`.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use hookd_server::config::{Config, RawConfig};

pub mod check;
mod errors;

pub use errors::LoadError;

/// The documented defaults, as `hookd config default` prints them.
pub const DEFAULT_TOML: &str = include_str!("../default-config.toml");

/// Variables that start with `HOOKD_` and are not server options: the file's path and the log
/// filter are read elsewhere, the server and token belong to the client commands.
const NOT_OPTIONS: [&str; 4] = ["CONFIG", "LOG", "SERVER", "TOKEN"];

/// Options given as flags; they win over file and environment.
#[derive(Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub role: Option<String>,
    pub listen: Option<String>,
    pub allowed_networks: Vec<String>,
    pub endpoint_verification: Option<String>,
}

/// The flag that sets each option that has one.
const FLAGS: [(&str, &str); 6] = [
    ("data_dir", "--data-dir"),
    ("database", "--database"),
    ("role", "--role"),
    ("listen", "--listen"),
    ("allowed_networks", "--allow-network"),
    ("endpoint_verification", "--endpoint-verification"),
];

/// Every layer, merged but not yet read into the config.
pub struct Layered {
    figment: Figment,
}

impl Layered {
    pub fn new(file: Option<&Path>, overrides: Overrides) -> Result<Layered, LoadError> {
        let defaults = defaults();
        let known: Vec<String> = defaults.keys().cloned().collect();
        let mut figment = Figment::from(Layer::Defaults(defaults));
        if let Some(path) = file {
            if !path.exists() {
                return Err(LoadError::Missing {
                    path: path.display().to_string(),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        warn_of_unknown_variables(&known);
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        figment = figment
            .merge(Env::prefixed("HOOKD_").only(&known))
            .merge(Layer::Flags(overrides.into_dict()));
        Ok(Layered { figment })
    }

    /// The options as given, before validation.
    pub fn raw(&self) -> Result<RawConfig, LoadError> {
        self.figment
            .extract()
            .map_err(|e| LoadError::Parse(errors::describe(e)))
    }

    pub fn config(&self) -> Result<Config, LoadError> {
        self.raw()?.validate().map_err(|e| LoadError::Invalid {
            origin: self.origin(e.field),
            field: e.field,
            problem: e.problem,
        })
    }

    /// Where `key`'s value came from: `default`, a file's path, `HOOKD_KEY` or `--flag`.
    pub fn origin(&self, key: &str) -> String {
        match self.figment.find_metadata(key) {
            Some(metadata) => origin(metadata, key),
            None => "default".into(),
        }
    }
}

fn origin(metadata: &Metadata, key: &str) -> String {
    if let Some(Source::File(path)) = &metadata.source {
        return path.display().to_string();
    }
    if metadata.name.contains("HOOKD_") {
        return format!("HOOKD_{}", key.to_ascii_uppercase());
    }
    metadata.interpolate(&Profile::Default, &[key])
}

/// Warns of each `HOOKD_*` variable that names no option (a typo, or a variable meant for
/// another program, such as the example receiver's `HOOKD_SECRET`): it changes nothing, so it
/// must not stop the server, but it must not go unnoticed either.
fn warn_of_unknown_variables(known: &[String]) {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let Some(key) = name.strip_prefix("HOOKD_") else {
            continue;
        };
        let upper = key.to_ascii_uppercase();
        if NOT_OPTIONS.contains(&upper.as_str())
            || upper.starts_with("TEST_")
            || known.iter().any(|k| k.eq_ignore_ascii_case(key))
        {
            continue;
        }
        tracing::warn!(
            "{name} is not a hookd option, so it is ignored (`hookd config default` lists the \
             options; each one's variable is HOOKD_ and its name in capitals)"
        );
    }
}

fn defaults() -> Dict {
    match Value::serialize(RawConfig::default()) {
        Ok(Value::Dict(_, dict)) => dict,
        _ => unreachable!("the defaults serialize to a table of options"),
    }
}

impl Overrides {
    fn into_dict(self) -> Dict {
        let mut dict = Dict::new();
        let mut set = |key: &str, value: Value| {
            dict.insert(key.to_owned(), value);
        };
        if let Some(dir) = self.data_dir {
            set("data_dir", dir.to_string_lossy().into_owned().into());
        }
        let strings = [
            ("database", self.database),
            ("role", self.role),
            ("listen", self.listen),
            ("endpoint_verification", self.endpoint_verification),
        ];
        for (key, value) in strings {
            if let Some(value) = value {
                set(key, value.into());
            }
        }
        if !self.allowed_networks.is_empty() {
            set("allowed_networks", self.allowed_networks.into());
        }
        dict
    }
}

/// A layer that figment's own providers do not name as we want: the defaults (whose built-in
/// name is a Rust type) and the flags.
enum Layer {
    Defaults(Dict),
    Flags(Dict),
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        match self {
            Layer::Defaults(_) => Metadata::named("default").interpolater(|_, _| "default".into()),
            Layer::Flags(_) => Metadata::named("flag").interpolater(|_, keys| {
                let key = keys.first().copied().unwrap_or_default();
                FLAGS
                    .iter()
                    .find(|(option, _)| *option == key)
                    .map_or_else(|| format!("--{key}"), |(_, flag)| (*flag).to_owned())
            }),
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let (Layer::Defaults(dict) | Layer::Flags(dict)) = self;
        Ok(Profile::Default.collect(dict.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_defaults_are_the_real_defaults() {
        let documented: RawConfig =
            toml::from_str(DEFAULT_TOML).expect("default-config.toml parses");
        let real = RawConfig::default();
        assert_eq!(format!("{documented:?}"), format!("{real:?}"));
    }
}
