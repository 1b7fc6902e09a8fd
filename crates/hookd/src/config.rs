//! Config loading: the defaults, then a TOML file, then `HOOKD_*` variables, then flags; checked
//! once into the server's typed `Config`. Nothing here touches the disk but reading the file.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use hookd_server::config::{Config, ConfigError, RawConfig};

/// The documented defaults, as `hookd config default` prints them.
pub const DEFAULT_TOML: &str = include_str!("../default-config.toml");

/// Options given as flags; they win over file and environment.
#[derive(Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<std::path::PathBuf>,
    pub database: Option<String>,
    pub role: Option<String>,
    pub listen: Option<String>,
    pub allowed_networks: Vec<String>,
    pub endpoint_verification: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("config file {path} does not exist")]
    Missing { path: String },
    #[error("invalid config: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, LoadError> {
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(path) = file {
        if !path.exists() {
            return Err(LoadError::Missing {
                path: path.display().to_string(),
            });
        }
        figment = figment.merge(Toml::file(path));
    }
    figment = figment.merge(
        // HOOKD_CONFIG and HOOKD_LOG are read elsewhere, HOOKD_SERVER and HOOKD_TOKEN belong to
        // the client commands, HOOKD_TEST_* to the test suite: none of them is a server option.
        Env::prefixed("HOOKD_")
            .ignore(&["config", "log", "server", "token"])
            .filter(|key| !key.as_str().to_ascii_lowercase().starts_with("test_"))
            .split("__"),
    );
    if let Some(dir) = overrides.data_dir {
        figment = figment.merge(Serialized::default("data_dir", dir));
    }
    if let Some(database) = overrides.database {
        figment = figment.merge(Serialized::default("database", database));
    }
    if let Some(role) = overrides.role {
        figment = figment.merge(Serialized::default("role", role));
    }
    if let Some(listen) = overrides.listen {
        figment = figment.merge(Serialized::default("listen", listen));
    }
    if !overrides.allowed_networks.is_empty() {
        figment = figment.merge(Serialized::default(
            "allowed_networks",
            overrides.allowed_networks,
        ));
    }
    if let Some(mode) = overrides.endpoint_verification {
        figment = figment.merge(Serialized::default("endpoint_verification", mode));
    }
    let raw: RawConfig = figment.extract().map_err(Box::new)?;
    Ok(raw.validate()?)
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
