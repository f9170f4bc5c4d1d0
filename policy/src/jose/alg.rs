//! JWS algorithms Turnpike verifies (RFC 7518 §3, RFC 8037 §3.1), and how each maps to ring.
//!
//! `none` is never an [`Alg`]; `ES512` (P-521) is refused because ring has no P-521.

use std::fmt;

/// A JWS `alg` Turnpike can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256, MGF1 SHA-256, salt length 32.
    PS256,
    /// RSASSA-PSS with SHA-384, MGF1 SHA-384, salt length 48.
    PS384,
    /// RSASSA-PSS with SHA-512, MGF1 SHA-512, salt length 64.
    PS512,
    /// ECDSA on P-256 with SHA-256, raw `r || s` signature (64 bytes).
    ES256,
    /// ECDSA on P-384 with SHA-384, raw `r || s` signature (96 bytes).
    ES384,
    /// EdDSA; Turnpike supports only the Ed25519 curve.
    EdDSA,
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
}

/// The kind of key an algorithm needs; a key of another family never verifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    /// `kty: RSA`.
    Rsa,
    /// `kty: EC`, `crv: P-256`.
    EcP256,
    /// `kty: EC`, `crv: P-384`.
    EcP384,
    /// `kty: OKP`, `crv: Ed25519`.
    Ed25519,
    /// `kty: oct` (a shared secret).
    Hmac,
}

/// Why an `alg` string is not an [`Alg`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgRefusal {
    /// `none` (any case): unsecured JWS are never accepted.
    None,
    /// A known JOSE algorithm Turnpike cannot verify; the text says why.
    Unsupported(&'static str),
    /// Not a JWS signature algorithm at all.
    Unknown,
}

impl Alg {
    /// Every algorithm, for configuration defaults and tests.
    pub const ALL: [Alg; 12] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
    ];

    /// Parses a JOSE `alg` value (case-sensitive, RFC 7515 §4.1.1).
    pub fn parse(name: &str) -> Result<Self, AlgRefusal> {
        Ok(match name {
            "RS256" => Self::RS256,
            "RS384" => Self::RS384,
            "RS512" => Self::RS512,
            "PS256" => Self::PS256,
            "PS384" => Self::PS384,
            "PS512" => Self::PS512,
            "ES256" => Self::ES256,
            "ES384" => Self::ES384,
            "EdDSA" => Self::EdDSA,
            "HS256" => Self::HS256,
            "HS384" => Self::HS384,
            "HS512" => Self::HS512,
            _ if name.eq_ignore_ascii_case("none") => return Err(AlgRefusal::None),
            "ES512" => {
                return Err(AlgRefusal::Unsupported(
                    "ES512 needs P-521, which ring does not provide",
                ))
            }
            "ES256K" => return Err(AlgRefusal::Unsupported("secp256k1 is not supported")),
            _ => return Err(AlgRefusal::Unknown),
        })
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
        }
    }

    /// The key family that can verify this algorithm.
    pub fn family(self) -> KeyFamily {
        match self {
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => {
                KeyFamily::Rsa
            }
            Self::ES256 => KeyFamily::EcP256,
            Self::ES384 => KeyFamily::EcP384,
            Self::EdDSA => KeyFamily::Ed25519,
            Self::HS256 | Self::HS384 | Self::HS512 => KeyFamily::Hmac,
        }
    }

    /// For HMAC algorithms, the minimum key length in bytes: the hash output size (RFC 7518 §3.2,
    /// "A key of the same size as the hash output ... or larger MUST be used").
    pub fn min_hmac_key_len(self) -> Option<usize> {
        match self {
            Self::HS256 => Some(32),
            Self::HS384 => Some(48),
            Self::HS512 => Some(64),
            _ => None,
        }
    }

    pub(crate) fn rsa_params(self) -> Option<&'static ring::signature::RsaParameters> {
        use ring::signature as s;
        match self {
            Self::RS256 => Some(&s::RSA_PKCS1_2048_8192_SHA256),
            Self::RS384 => Some(&s::RSA_PKCS1_2048_8192_SHA384),
            Self::RS512 => Some(&s::RSA_PKCS1_2048_8192_SHA512),
            Self::PS256 => Some(&s::RSA_PSS_2048_8192_SHA256),
            Self::PS384 => Some(&s::RSA_PSS_2048_8192_SHA384),
            Self::PS512 => Some(&s::RSA_PSS_2048_8192_SHA512),
            _ => None,
        }
    }

    pub(crate) fn hmac_algorithm(self) -> Option<ring::hmac::Algorithm> {
        match self {
            Self::HS256 => Some(ring::hmac::HMAC_SHA256),
            Self::HS384 => Some(ring::hmac::HMAC_SHA384),
            Self::HS512 => Some(ring::hmac::HMAC_SHA512),
            _ => None,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in Alg::ALL {
            assert_eq!(Alg::parse(alg.name()), Ok(alg));
        }
    }

    #[test]
    fn refusals() {
        assert_eq!(Alg::parse("none"), Err(AlgRefusal::None));
        assert_eq!(Alg::parse("NONE"), Err(AlgRefusal::None));
        assert!(matches!(Alg::parse("ES512"), Err(AlgRefusal::Unsupported(_))));
        assert_eq!(Alg::parse("rs256"), Err(AlgRefusal::Unknown));
        assert_eq!(Alg::parse("A256GCM"), Err(AlgRefusal::Unknown));
    }
}
