//! Database: which backend a node opens, chosen by the scheme of the configured URL.
//!
//! `postgres://` (or `postgresql://`) is a PostgreSQL server that any number of nodes share;
//! `sqlite:PATH` (or none at all: the file in the data directory) is the embedded store of one
//! process. A URL may carry a password, so it prints only redacted.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::{PostgresOptions, PostgresStore, Result, Sealer, Sharing, SqliteStore, Store};

/// A database URL as configured; `Debug` and `Display` hide its password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL itself, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Shows scheme, user, host and database; the password becomes `***` and the query, which
/// may hold one too, `?...`.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (base, query) = match self.0.split_once('?') {
            Some((base, _)) => (base, "?..."),
            None => (self.0.as_str(), ""),
        };
        let Some((scheme, rest)) = base.split_once("://") else {
            return write!(f, "{base}{query}");
        };
        match rest.rsplit_once('@') {
            Some((user_info, host)) => {
                let user = user_info
                    .split_once(':')
                    .map_or(user_info, |(user, _)| user);
                let hidden = if user_info.contains(':') { ":***" } else { "" };
                write!(f, "{scheme}://{user}{hidden}@{host}{query}")
            }
            None => write!(f, "{scheme}://{rest}{query}"),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The store a node opens.
#[derive(Clone, Debug)]
pub enum Database {
    /// The embedded SQLite file, for one process.
    Sqlite(PathBuf),
    /// A PostgreSQL database that any number of nodes share.
    Postgres {
        url: DatabaseUrl,
        options: PostgresOptions,
    },
}

impl Database {
    /// Chooses the backend by the URL's scheme. The error says what is wrong without repeating
    /// the URL, which may hold a password.
    pub fn from_url(url: &str, options: PostgresOptions) -> Result<Database, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres {
                url: DatabaseUrl(url.to_owned()),
                options,
            });
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("a sqlite: URL needs a file path, e.g. sqlite:./hookd.db".into());
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        Err("want postgres://user:password@host/database or sqlite:PATH".into())
    }

    pub fn sharing(&self) -> Sharing {
        match self {
            Database::Sqlite(_) => Sharing::ThisProcess,
            Database::Postgres { .. } => Sharing::Nodes,
        }
    }

    /// Opens the store, sealing secrets with `sealer`, and brings its schema up to date. For
    /// SQLite, the file's directory must exist.
    pub async fn open(&self, sealer: Sealer) -> Result<Arc<dyn Store>> {
        match self {
            Database::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path, sealer).await?)),
            Database::Postgres { url, options } => {
                let store = PostgresStore::connect(url.expose(), options, sealer).await?;
                store.migrate().await?;
                Ok(Arc::new(store))
            }
        }
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Database::Postgres { url, .. } => url.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(url: &str) -> String {
        match Database::from_url(url, PostgresOptions::default()).unwrap() {
            Database::Postgres { url, .. } => format!("{url} {url:?}"),
            Database::Sqlite(path) => path.display().to_string(),
        }
    }

    #[test]
    fn the_scheme_chooses_the_backend() {
        assert_eq!(shown("sqlite:./data/hookd.db"), "./data/hookd.db");
        assert_eq!(shown("sqlite:///var/hookd.db"), "/var/hookd.db");
        assert!(Database::from_url("sqlite:", PostgresOptions::default()).is_err());
        assert!(Database::from_url("mysql://db/hookd", PostgresOptions::default()).is_err());
        assert!(matches!(
            Database::from_url("postgresql://db/hookd", PostgresOptions::default()),
            Ok(Database::Postgres { .. })
        ));
    }

    #[test]
    fn a_database_url_never_shows_its_password() {
        assert_eq!(
            shown("postgres://hookd:s3cret@db:5432/hookd"),
            "postgres://hookd:***@db:5432/hookd DatabaseUrl(postgres://hookd:***@db:5432/hookd)"
        );
        let shown = shown("postgres://db/hookd?user=hookd&password=s3cret");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.starts_with("postgres://db/hookd?..."), "{shown}");
    }
}
