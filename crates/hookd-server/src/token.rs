//! API tokens: made random, shown once, stored only as a SHA-256 hash.

use base64::Engine;
use hookd_core::Timestamp;
use hookd_store::{Store, StoreError, TokenRecord, TokenScope};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of a token, the form it is stored and looked up in.
pub fn hash(token: &str) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// The name a token goes by in lists: `tok_` and the first 16 hex digits of its hash. Not a
/// secret (a hash cannot be turned back into the token), and enough to tell tokens apart.
pub fn id(hash: &str) -> String {
    const ID_HEX_DIGITS: usize = 16;
    format!("tok_{}", &hash[..hash.len().min(ID_HEX_DIGITS)])
}

/// Makes a new token with `scope`, stores its hash, and returns the token itself: the only time
/// it exists in the clear.
pub async fn create(
    store: &dyn Store,
    scope: TokenScope,
    now: Timestamp,
) -> Result<String, StoreError> {
    create_until(store, scope, now, None).await
}

/// Makes a token, as `create`, that stops working at `expires_at` (if given).
pub async fn create_until(
    store: &dyn Store,
    scope: TokenScope,
    now: Timestamp,
    expires_at: Option<Timestamp>,
) -> Result<String, StoreError> {
    let token = generate(&scope);
    store
        .insert_token(&TokenRecord {
            hash: hash(&token),
            scope,
            created_at: now,
            expires_at,
        })
        .await?;
    Ok(token)
}

/// A new random token for `scope`, not yet stored.
pub fn generate(scope: &TokenScope) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let prefix = match scope {
        TokenScope::Admin => "hk_admin_",
        TokenScope::Application(_) | TokenScope::ApplicationReadOnly(_) => "hk_app_",
    };
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            super::hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(super::hash("").len(), 64);
    }
}
