//! Names users choose: uids, event types, channels. One rule set, checked once at the edge.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters long")]
    TooLong(usize),
    #[error("may only contain letters, digits, '-', '_' and '.'")]
    BadCharacter,
}

/// The pattern `^[a-zA-Z0-9\-_.]+$` shared by uids, event types, event ids and channels.
pub fn check(name: &str, max_len: usize) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > max_len {
        return Err(NameError::TooLong(max_len));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(NameError::BadCharacter);
    }
    Ok(())
}

pub const UID_MAX: usize = 256;
pub const EVENT_TYPE_MAX: usize = 256;
pub const CHANNEL_MAX: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_svix_pattern() {
        assert_eq!(check("user.signup-v2_x", UID_MAX), Ok(()));
        assert_eq!(check("", UID_MAX), Err(NameError::Empty));
        assert_eq!(check("a b", UID_MAX), Err(NameError::BadCharacter));
        assert_eq!(check("é", UID_MAX), Err(NameError::BadCharacter));
        assert_eq!(
            check(&"a".repeat(129), CHANNEL_MAX),
            Err(NameError::TooLong(128))
        );
    }
}
