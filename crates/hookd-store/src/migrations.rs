//! What both backends' migrations share: the check of a schema's version against the
//! migrations this build knows.

use crate::{Result, StoreError};

/// How many of the `known` migrations a schema at `applied` has; an error for a schema newer
/// than this build (a downgrade), which it must not touch.
pub(crate) fn applied(applied: i64, known: usize) -> Result<usize> {
    let applied = usize::try_from(applied)
        .map_err(|_| StoreError::Corrupt(format!("negative schema version {applied}")))?;
    if applied > known {
        return Err(StoreError::Corrupt(format!(
            "schema version {applied} is newer than this hookd knows ({known})"
        )));
    }
    Ok(applied)
}
