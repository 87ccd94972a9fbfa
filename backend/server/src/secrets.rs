//! Opaque secrets handed to people (refresh tokens, invitation links, calendar
//! feeds): 256 random bits, URL-safe; only their SHA-256 is ever stored.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let (a, b) = (super::new_token(), super::new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(super::hash_token(&a), super::hash_token(&a));
        assert_eq!(super::hash_token(&a).len(), 32);
    }
}
