//! `hookd token list` and `hookd token revoke`: the admin tokens of the configured database, by
//! id (`token::id`, a prefix of the hash the store keeps); no token is ever printed.

use hookd_server::token;
use hookd_store::TokenSummary;

use crate::serve::open_store;

type BoxError = Box<dyn std::error::Error>;

pub async fn list(config: &hookd_server::Config) -> Result<(), BoxError> {
    let store = open_store(config).await?;
    let tokens = store.list_admin_tokens().await?;
    if tokens.is_empty() {
        println!("No admin token yet; `hookd token create` makes one.");
        return Ok(());
    }
    println!("{:<22}  {:<24}  name", "id", "created");
    for t in &tokens {
        let created = hookd_api::timestamp::format_millis(t.created_at.as_millis());
        println!(
            "{:<22}  {:<24}  {}",
            token::id(&t.hash),
            created,
            t.name.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// Revokes the admin token named by `id_or_token`; refuses the last one, since nobody could
/// then reach the API to make another (`hookd token create` can, from this machine).
pub async fn revoke(config: &hookd_server::Config, id_or_token: &str) -> Result<(), BoxError> {
    let store = open_store(config).await?;
    let tokens = store.list_admin_tokens().await?;
    let wanted = if id_or_token.starts_with("tok_") {
        id_or_token.to_owned()
    } else {
        token::id(&token::hash(id_or_token))
    };
    let found: Vec<&TokenSummary> = tokens
        .iter()
        .filter(|t| token::id(&t.hash) == wanted)
        .collect();
    let [found] = found.as_slice() else {
        return Err(format!("no admin token {wanted}; `hookd token list` shows them").into());
    };
    if tokens.len() == 1 {
        return Err(
            "this is the only admin token: make another (`hookd token create`) before revoking it"
                .into(),
        );
    }
    store.delete_token(&found.hash).await?;
    println!("Revoked {wanted}; servers stop accepting it within a second.");
    Ok(())
}
