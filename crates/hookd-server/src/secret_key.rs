//! The key that seals endpoint secrets at rest: `secret_key` from the config or, on SQLite
//! without one, a key generated at first start into `data_dir/secret.key` (mode 0600) and read
//! from there on. Losing the key loses the secrets: back it up with the database.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use hookd_store::{Sealer, SecretKey};

use crate::Config;

/// The key file's name in `data_dir`.
pub const KEY_FILE: &str = "secret.key";

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the secret key file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the secret key file {} does not hold base64 of 32 bytes", path.display())]
    Invalid { path: PathBuf },
    #[error("cannot write the secret key file {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The sealer the store opens with. `Config::validate` already refused a shared database
/// without `secret_key`, so the key file serves only the one process of a SQLite store.
pub fn sealer(config: &Config) -> Result<Sealer, KeyFileError> {
    let key = match &config.secret_key {
        Some(key) => key.clone(),
        None => load_or_create(&config.data_dir.join(KEY_FILE))?,
    };
    Ok(Sealer::new(&key))
}

fn load_or_create(path: &Path) -> Result<SecretKey, KeyFileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => SecretKey::from_base64(&text).map_err(|_| KeyFileError::Invalid {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == ErrorKind::NotFound => match create(path) {
            // Another process made it first: use theirs.
            Err(KeyFileError::Write { source, .. })
                if source.kind() == ErrorKind::AlreadyExists =>
            {
                load_or_create(path)
            }
            other => other,
        },
        Err(source) => Err(KeyFileError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn create(path: &Path) -> Result<SecretKey, KeyFileError> {
    let write_error = |source| KeyFileError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    let key = SecretKey::generate();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write_error)?;
    file.write_all(format!("{}\n", key.to_base64()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(write_error)?;
    tracing::info!(
        path = %path.display(),
        "generated the key that seals endpoint secrets; back it up with the database"
    );
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_made_once_private_and_read_back_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(KEY_FILE);
        let made = load_or_create(&path).unwrap();
        let read = load_or_create(&path).unwrap();
        assert_eq!(made.to_base64(), read.to_base64());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(KeyFileError::Invalid { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
    }
}
