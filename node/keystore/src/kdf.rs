//! Key derivation for v3 key files: scrypt (geth's default) and PBKDF2-HMAC-SHA256.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::KeystoreError;

/// geth `StandardScryptN` (2^18).
pub const STANDARD_SCRYPT_N: u64 = 1 << 18;
/// geth `StandardScryptP`.
pub const STANDARD_SCRYPT_P: u32 = 1;
/// geth `LightScryptN` (2^12).
pub const LIGHT_SCRYPT_N: u64 = 1 << 12;
/// geth `LightScryptP`.
pub const LIGHT_SCRYPT_P: u32 = 6;
/// scrypt `r` used by geth.
pub const SCRYPT_R: u32 = 8;
/// Derived key length used by geth (16 bytes AES key + 16 bytes MAC key).
pub const DKLEN: usize = 32;

/// Upper bound on scrypt memory (`128·r·N` bytes) we accept from a key file: 1 GiB.
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
/// Upper bound on scrypt `p` and PBKDF2 rounds, so a hostile file cannot stall the node for hours.
const MAX_SCRYPT_P: u32 = 64;
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;
/// Upper bound on `dklen`.
const MAX_DKLEN: usize = 64;

/// How expensive scrypt is for newly written keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScryptCost {
    /// geth's standard: N = 2^18, p = 1 (≈256 MiB, about a second).
    Standard,
    /// geth's `--lightkdf`: N = 2^12, p = 6 (for dev chains and tests).
    Light,
}

impl ScryptCost {
    /// `(n, p)` of this cost.
    pub fn n_p(self) -> (u64, u32) {
        match self {
            Self::Standard => (STANDARD_SCRYPT_N, STANDARD_SCRYPT_P),
            Self::Light => (LIGHT_SCRYPT_N, LIGHT_SCRYPT_P),
        }
    }
}

/// `crypto.kdfparams` for scrypt, fields in Go's (sorted map key) order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScryptParams {
    /// Derived key length.
    pub dklen: usize,
    /// CPU/memory cost, a power of two.
    pub n: u64,
    /// Parallelism.
    pub p: u32,
    /// Block size.
    pub r: u32,
    /// Hex salt.
    pub salt: String,
}

/// `crypto.kdfparams` for PBKDF2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pbkdf2Params {
    /// Iterations.
    pub c: u32,
    /// Derived key length.
    pub dklen: usize,
    /// Must be `hmac-sha256`.
    pub prf: String,
    /// Hex salt.
    pub salt: String,
}

fn decode_salt(salt: &str) -> Result<Vec<u8>, KeystoreError> {
    hex::decode(salt).map_err(|_| KeystoreError::InvalidField { field: "salt" })
}

fn check_dklen(dklen: usize) -> Result<(), KeystoreError> {
    if !(DKLEN..=MAX_DKLEN).contains(&dklen) {
        return Err(KeystoreError::InvalidKdfParams { reason: "dklen must be between 32 and 64" });
    }
    Ok(())
}

/// Runs scrypt with the file's parameters, within the resource limits above.
pub fn scrypt_key(
    password: &[u8],
    params: &ScryptParams,
) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    check_dklen(params.dklen)?;
    if params.n < 2 || !params.n.is_power_of_two() {
        return Err(KeystoreError::InvalidKdfParams {
            reason: "scrypt n must be a power of two > 1",
        });
    }
    let memory = u64::from(params.r).checked_mul(128).and_then(|m| m.checked_mul(params.n));
    if params.r == 0 || memory.is_none_or(|m| m > MAX_SCRYPT_MEMORY) {
        return Err(KeystoreError::InvalidKdfParams {
            reason: "scrypt r·n out of range (memory limit 1 GiB)",
        });
    }
    if params.p == 0 || params.p > MAX_SCRYPT_P {
        return Err(KeystoreError::InvalidKdfParams { reason: "scrypt p out of range" });
    }
    let log_n = u8::try_from(params.n.trailing_zeros())
        .map_err(|_| KeystoreError::InvalidKdfParams { reason: "scrypt n out of range" })?;
    let salt = decode_salt(&params.salt)?;
    let mut out = Zeroizing::new(vec![0u8; params.dklen]);
    // The `scrypt` crate (fast even in debug builds) enforces RFC 7914's N < 2^(16·r); geth
    // does not, so such files take our own implementation.
    match scrypt::Params::new(log_n, params.r, params.p, DKLEN) {
        Ok(scrypt_params) => {
            scrypt::scrypt(password, &salt, &scrypt_params, &mut out).map_err(|_| {
                KeystoreError::InvalidKdfParams { reason: "scrypt output length rejected" }
            })?
        }
        Err(_) => {
            let n = usize::try_from(params.n)
                .map_err(|_| KeystoreError::InvalidKdfParams { reason: "scrypt n out of range" })?;
            let r = usize::try_from(params.r)
                .map_err(|_| KeystoreError::InvalidKdfParams { reason: "scrypt r out of range" })?;
            let p = usize::try_from(params.p)
                .map_err(|_| KeystoreError::InvalidKdfParams { reason: "scrypt p out of range" })?;
            crate::scrypt_rfc::scrypt(password, &salt, n, r, p, &mut out);
        }
    }
    Ok(out)
}

/// Runs PBKDF2-HMAC-SHA256 with the file's parameters.
pub fn pbkdf2_key(
    password: &[u8],
    params: &Pbkdf2Params,
) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    if params.prf != "hmac-sha256" {
        return Err(KeystoreError::UnsupportedPrf(params.prf.clone()));
    }
    check_dklen(params.dklen)?;
    if params.c == 0 || params.c > MAX_PBKDF2_ROUNDS {
        return Err(KeystoreError::InvalidKdfParams { reason: "pbkdf2 c out of range" });
    }
    let salt = decode_salt(&params.salt)?;
    let mut out = Zeroizing::new(vec![0u8; params.dklen]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, params.c, &mut out);
    Ok(out)
}
