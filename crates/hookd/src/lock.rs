//! The SQLite store is one process's: `serve` holds an exclusive lock on a file beside the
//! database for as long as it runs, so a second `serve` on the same file refuses to start
//! instead of taking the first one's deliveries (each would release the other's leases at
//! start and claim the same rows). The file holds the holder's pid, for the refusal to name.
//!
//! Only `serve` takes it: `token create`, `migrate` and `prune` are short and safe beside a
//! running server. The operating system drops the lock when the process ends, however it ends,
//! so a `kill -9` leaves nothing to clean up.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use hookd_store::Database;

/// Held while the server runs; dropping it (or the process ending) frees the database.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// `hookd.db` is locked through `hookd.db.lock`.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    database.with_file_name(name)
}

/// Takes the lock of a SQLite database, whose directory exists. PostgreSQL is shared by design
/// and takes none.
pub fn acquire(database: &Database) -> Result<Option<StoreLock>, String> {
    let Database::Sqlite(path) = database else {
        return Ok(None);
    };
    let lock = lock_path(path);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(|e| format!("cannot open the lock file {}: {e}", lock.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&lock)
                .ok()
                .and_then(|text| text.trim().parse::<u32>().ok())
                .map_or_else(|| "another process".to_owned(), |pid| format!("pid {pid}"));
            return Err(format!(
                "another hookd ({holder}) is serving {database}: a SQLite database is one \
                 process's. Stop that one first, or give this one its own --data-dir (nodes that \
                 share the work share a PostgreSQL database)"
            ));
        }
        Err(TryLockError::Error(e)) => {
            return Err(format!("cannot lock {}: {e}", lock.display()));
        }
    }
    file.set_len(0)
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .map_err(|e| format!("cannot write the lock file {}: {e}", lock.display()))?;
    Ok(Some(StoreLock { _file: file }))
}
