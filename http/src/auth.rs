//! Bearer tokens: checked from the headers alone, in constant time.

use crate::config::Access;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The accepted tokens, kept as SHA-256 digests so every comparison takes
/// the same time whatever the presented token's length or content.
#[derive(Debug)]
pub struct Tokens {
    digests: Vec<([u8; 32], Access)>,
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

impl Tokens {
    /// Keep the digests of `tokens`.
    pub fn new(tokens: &[(String, Access)]) -> Tokens {
        Tokens {
            digests: tokens
                .iter()
                .map(|(t, a)| (digest(t.as_bytes()), *a))
                .collect(),
        }
    }

    /// Whether no token is configured.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// The access granted by an `Authorization` header value, if any. Every
    /// configured token is compared (no early exit); the strongest match wins.
    pub fn check(&self, header: Option<&[u8]>) -> Option<Access> {
        let presented = header?.strip_prefix(b"Bearer ")?;
        let d = digest(presented);
        let mut found: Option<Access> = None;
        for (want, access) in &self.digests {
            if bool::from(want.ct_eq(&d)) {
                found = match (found, access) {
                    (Some(Access::ReadWrite), _) | (_, Access::ReadWrite) => {
                        Some(Access::ReadWrite)
                    }
                    _ => Some(Access::ReadOnly),
                };
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_grant_their_access_and_nothing_else() {
        let t = Tokens::new(&[
            ("rw".into(), Access::ReadWrite),
            ("ro".into(), Access::ReadOnly),
        ]);
        assert_eq!(t.check(Some(b"Bearer rw")), Some(Access::ReadWrite));
        assert_eq!(t.check(Some(b"Bearer ro")), Some(Access::ReadOnly));
        assert_eq!(t.check(Some(b"Bearer r")), None);
        assert_eq!(t.check(Some(b"Bearer rww")), None);
        assert_eq!(t.check(Some(b"rw")), None);
        assert_eq!(t.check(Some(b"Basic rw")), None);
        assert_eq!(t.check(None), None);
        assert!(Tokens::new(&[]).is_empty());
    }
}
