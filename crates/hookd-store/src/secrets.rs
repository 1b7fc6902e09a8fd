//! Endpoint secrets as both backends store them: the current one sealed in `secret`, and the
//! ones a rotation retired, each sealed, with the end of its grace period, as JSON in
//! `retired_secrets`.

use hookd_core::Timestamp;
use serde_json::{Value, json};

use crate::convert::corrupt;
use crate::{Result, Sealer};

/// A secret that still signs until `until`, after a rotation replaced it.
#[derive(Clone)]
pub(crate) struct Retired {
    pub secret: String,
    pub until: Timestamp,
}

/// An endpoint's secrets as read from its row, opened.
pub(crate) struct Secrets {
    pub current: String,
    pub retired: Vec<Retired>,
}

impl Secrets {
    /// Reads the two columns of the endpoint `owner`.
    pub fn open(sealer: &Sealer, owner: &str, secret: &str, retired: &str) -> Result<Secrets> {
        let current = sealer.open("secret", owner, secret)?;
        let entries: Vec<Value> =
            serde_json::from_str(retired).map_err(|e| corrupt("retired_secrets", e))?;
        let retired = entries
            .iter()
            .map(|entry| {
                let sealed = entry["secret"].as_str();
                let until = entry["until"].as_i64();
                let (Some(sealed), Some(until)) = (sealed, until) else {
                    return Err(corrupt("retired_secrets", "entry without secret or until"));
                };
                Ok(Retired {
                    secret: sealer.open("retired_secrets", owner, sealed)?,
                    until: Timestamp(until),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Secrets { current, retired })
    }

    /// `new` becomes current; the current one signs on until `grace_until`. Secrets whose grace
    /// ended by `now` are dropped.
    pub fn rotate(self, new: &str, grace_until: Timestamp, now: Timestamp) -> Secrets {
        let mut retired = self.retired;
        retired.push(Retired {
            secret: self.current,
            until: grace_until,
        });
        retired.retain(|r| r.until > now);
        Secrets {
            current: new.to_owned(),
            retired,
        }
    }

    /// Every secret that signs at `now`, the current one first.
    pub fn valid_at(self, now: Timestamp) -> Vec<String> {
        let retired = self.retired.into_iter().filter(|r| r.until > now);
        std::iter::once(self.current)
            .chain(retired.map(|r| r.secret))
            .collect()
    }

    /// The `retired_secrets` column for the endpoint `owner`, each secret sealed.
    pub fn retired_column(&self, sealer: &Sealer, owner: &str) -> String {
        let entries: Vec<Value> = self
            .retired
            .iter()
            .map(|r| json!({ "secret": sealer.seal(owner, &r.secret), "until": r.until.0 }))
            .collect();
        Value::Array(entries).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    #[test]
    fn a_retired_secret_signs_until_its_grace_ends_then_is_dropped() {
        let sealer = Sealer::new(&SecretKey::generate());
        let first = Secrets::open(&sealer, "ep_1", "old", "[]").unwrap();
        let rotated = first.rotate("new", Timestamp(100), Timestamp(0));
        let column = rotated.retired_column(&sealer, "ep_1");
        assert!(!column.contains("old"), "{column}");
        let sealed_current = sealer.seal("ep_1", &rotated.current);
        let read = Secrets::open(&sealer, "ep_1", &sealed_current, &column).unwrap();
        assert_eq!(read.valid_at(Timestamp(99)), ["new", "old"]);
        let read = Secrets::open(&sealer, "ep_1", &sealed_current, &column).unwrap();
        assert_eq!(read.valid_at(Timestamp(100)), ["new"]);
        let again = Secrets::open(&sealer, "ep_1", &sealed_current, &column)
            .unwrap()
            .rotate("newest", Timestamp(300), Timestamp(200));
        let kept: Vec<_> = again.retired.iter().map(|r| r.secret.as_str()).collect();
        assert_eq!(kept, ["new"], "the expired one is dropped");
    }
}
