//! Password hashing and policy.
//!
//! Argon2id with the `argon2` crate's defaults (19 MiB, t=2, p=1: the OWASP
//! minimum). Hashing is CPU-heavy, so it runs on the blocking pool behind a
//! semaphore sized for the machine: a login burst queues instead of starving
//! the async workers. An unknown e-mail is verified against a dummy hash so it
//! costs the same time as a wrong password.
//!
//! Policy (NIST 800-63B / ASVS): at least 12 characters, up to 128, no
//! composition rules, and common or easily guessed passwords are refused
//! (zxcvbn's dictionaries and pattern matching, score below 3).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("use at least 12 characters")]
    TooShort,
    #[error("use at most 128 characters")]
    TooLong,
    #[error("this password is too common or too easy to guess")]
    TooCommon,
}

impl PolicyError {
    pub fn code(self) -> &'static str {
        match self {
            PolicyError::TooShort => "password_too_short",
            PolicyError::TooLong => "password_too_long",
            PolicyError::TooCommon => "password_too_common",
        }
    }
}

/// Check a new password. `context` holds words the password must not lean on
/// (the person's e-mail and name).
pub fn check_policy(password: &str, context: &[&str]) -> Result<(), PolicyError> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(PolicyError::TooShort);
    }
    if chars > MAX_LEN {
        return Err(PolicyError::TooLong);
    }
    // Whole strings and their words: "Anna de Vries" must also rule out "annadevries".
    let mut words: Vec<String> = context.iter().map(|c| c.to_lowercase()).collect();
    words.extend(
        context
            .iter()
            .flat_map(|c| c.split(|ch: char| !ch.is_alphanumeric()))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase),
    );
    words.extend(["personeelsbank", "huisarts", "praktijk", "wachtwoord"].map(String::from));
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if (estimate.score() as u8) < 3 {
        return Err(PolicyError::TooCommon);
    }
    Ok(())
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed")]
    Join,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        let dummy = hash_blocking("dummy password for timing equality").unwrap_or_default();
        PasswordHasher { permits: Arc::new(Semaphore::new(concurrency.max(1))), dummy_hash: dummy.into() }
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Join)?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(|_| HashError::Join)?
    }

    /// Verify `password` against `hash`, or against a dummy hash when there is
    /// no user, so both cases take the same time. Returns false for no user.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> Result<bool, HashError> {
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Join)?;
        let known = hash.is_some();
        let hash = hash.map(str::to_owned).unwrap_or_else(|| self.dummy_hash.to_string());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .map_err(|_| HashError::Join)?;
        Ok(ok && known)
    }
}

pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Hash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_long_and_common() {
        assert_eq!(check_policy("kort", &[]), Err(PolicyError::TooShort));
        assert_eq!(check_policy(&"x".repeat(129), &[]), Err(PolicyError::TooLong));
        assert_eq!(check_policy("password1234", &[]), Err(PolicyError::TooCommon));
        assert_eq!(check_policy("123456789012", &[]), Err(PolicyError::TooCommon));
        assert_eq!(check_policy("Anna de Vries!", &["anna@example.nl", "Anna de Vries"]), Err(PolicyError::TooCommon));
    }

    #[test]
    fn policy_accepts_long_passphrases_without_composition_rules() {
        assert_eq!(check_policy("paarse olifant danst op de dijk", &[]), Ok(()));
        // 64 characters must be accepted.
        assert_eq!(check_policy(&"fiets-regen-koffie-tulp-".repeat(3)[..64], &[]), Ok(()));
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let h = hash_blocking("paarse olifant danst op de dijk").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }

    #[tokio::test]
    async fn verify_accepts_right_and_refuses_wrong_and_unknown() {
        let hasher = PasswordHasher::new(1);
        let h = hasher.hash("paarse olifant danst op de dijk").await.unwrap();
        assert!(hasher.verify(Some(&h), "paarse olifant danst op de dijk").await.unwrap());
        assert!(!hasher.verify(Some(&h), "paarse olifant danst op het dak").await.unwrap());
        assert!(!hasher.verify(None, "dummy password for timing equality").await.unwrap());
    }
}
