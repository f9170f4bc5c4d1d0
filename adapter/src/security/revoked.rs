//! Revoked token ids (`jti`) as the admin API manages them: each with the moment the token would
//! have expired anyway, after which the entry is useless and pruned.
//!
//! Where it sits: control plane. `POST /api/turnpike/v1/revocations` adds entries to the deploy
//! manager's [`RevokedTokens`], which is persisted (see [`super::admin_state`]) and turned into the
//! snapshot's immutable [`Revocations`] table by [`RevokedTokens::to_table`]; cores check every
//! request's `jti` against that table and evict cached verifications of revoked tokens when they
//! install the snapshot. Nothing here runs on the request path.
//!
//! Expired entries are pruned when the gateway starts and whenever the set is written; between
//! writes an expired entry is harmless (the table ignores it, and the token itself is refused as
//! expired).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use turnpike_policy::auth::Revocations;

/// Longest `jti` accepted, in bytes.
pub const MAX_JTI_LEN: usize = 1024;

/// One revoked token id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// The token's `jti`.
    pub jti: String,
    /// Unix seconds: the token's own `exp` (the entry is dropped after it).
    #[serde(alias = "expiresAt")]
    pub expires_at: u64,
}

impl Revocation {
    /// Checks the id: non-empty, at most [`MAX_JTI_LEN`] bytes, no control characters.
    ///
    /// # Errors
    /// A sentence saying what is wrong with `jti`.
    pub fn validate(&self) -> Result<(), String> {
        if self.jti.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if self.jti.len() > MAX_JTI_LEN {
            return Err(format!("longer than {MAX_JTI_LEN} bytes"));
        }
        if self.jti.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        Ok(())
    }
}

/// The revoked ids, by `jti`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevokedTokens {
    by_jti: BTreeMap<String, u64>,
}

/// The persisted form: `{"revocations": [{"jti", "expires_at"}, ...]}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Persisted {
    revocations: Vec<Revocation>,
}

impl RevokedTokens {
    /// Adds `revocation`; revoking a known id again keeps the later expiry.
    pub fn insert(&mut self, revocation: Revocation) {
        let entry = self.by_jti.entry(revocation.jti).or_insert(revocation.expires_at);
        *entry = (*entry).max(revocation.expires_at);
    }

    /// Drops the entries expired at `now` (Unix seconds); returns how many.
    pub fn prune(&mut self, now: u64) -> usize {
        let before = self.by_jti.len();
        self.by_jti.retain(|_, expires_at| *expires_at > now);
        before - self.by_jti.len()
    }

    /// The entries still in force at `now`, by `jti`.
    pub fn live(&self, now: u64) -> Vec<Revocation> {
        self.by_jti
            .iter()
            .filter(|(_, &expires_at)| expires_at > now)
            .map(|(jti, &expires_at)| Revocation { jti: jti.clone(), expires_at })
            .collect()
    }

    /// Number of entries (expired ones not pruned yet included).
    pub fn len(&self) -> usize {
        self.by_jti.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.by_jti.is_empty()
    }

    /// The snapshot's table.
    pub fn to_table(&self) -> Revocations {
        Revocations::new(self.by_jti.iter().map(|(j, e)| (j.clone(), *e)))
    }

    /// Reads the persisted form.
    ///
    /// # Errors
    /// serde's description of what does not parse, or an invalid `jti`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let persisted: Persisted = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let mut out = Self::default();
        for (i, revocation) in persisted.revocations.into_iter().enumerate() {
            revocation.validate().map_err(|why| format!("/revocations/{i}/jti: {why}"))?;
            out.insert(revocation);
        }
        Ok(out)
    }

    /// The persisted form, pretty-printed.
    pub fn to_json(&self) -> Vec<u8> {
        let revocations = self
            .by_jti
            .iter()
            .map(|(jti, &expires_at)| Revocation { jti: jti.clone(), expires_at })
            .collect();
        serde_json::to_vec_pretty(&Persisted { revocations }).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(jti: &str, expires_at: u64) -> Revocation {
        Revocation { jti: jti.into(), expires_at }
    }

    #[test]
    fn insert_keeps_the_later_expiry_and_prune_drops_expired() {
        let mut set = RevokedTokens::default();
        set.insert(r("a", 100));
        set.insert(r("a", 50));
        set.insert(r("b", 10));
        set.insert(r("c", 200));
        assert_eq!(set.live(10), vec![r("a", 100), r("c", 200)], "b expired at 10");
        assert_eq!(set.len(), 3);
        assert_eq!(set.prune(100), 2);
        assert_eq!(set.live(0), vec![r("c", 200)]);
        let table = set.to_table();
        assert!(table.is_revoked("c", 199) && !table.is_revoked("c", 200));
        assert!(!table.is_revoked("a", 0));
    }

    #[test]
    fn persisted_form_round_trips() {
        let mut set = RevokedTokens::default();
        set.insert(r("x", 5));
        set.insert(r("y", 7));
        let json = set.to_json();
        assert_eq!(RevokedTokens::from_json(&json).unwrap(), set);
        let text = String::from_utf8(json).unwrap();
        assert!(text.contains(r#""jti": "x""#) && text.contains(r#""expires_at": 5"#), "{text}");
        let camel = br#"{"revocations":[{"jti":"z","expiresAt":9}]}"#;
        assert_eq!(RevokedTokens::from_json(camel).unwrap().live(0), vec![r("z", 9)]);
    }

    #[test]
    fn bad_persisted_forms_are_refused() {
        for bad in [
            &br#"{"revocations":[{"jti":"","expires_at":1}]}"#[..],
            br#"{"revocations":[{"jti":"a"}]}"#,
            br#"{"revocations":[{"jti":"a","expires_at":-1}]}"#,
            br#"{"revocations":[],"extra":1}"#,
            b"[",
        ] {
            assert!(RevokedTokens::from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            RevokedTokens::from_json(br#"{"revocations":[{"jti":"","expires_at":1}]}"#),
            Err("/revocations/0/jti: must not be empty".to_owned())
        );
    }

    #[test]
    fn jti_validation() {
        assert!(r("ok-1", 1).validate().is_ok());
        assert!(r("", 1).validate().is_err());
        assert!(r("a\nb", 1).validate().is_err());
        assert!(r(&"j".repeat(MAX_JTI_LEN + 1), 1).validate().is_err());
    }
}
