//! scrypt without RFC 7914's `N < 2^(16·r)` restriction, as Go's `x/crypto/scrypt` (and so
//! geth) computes it.
//!
//! The `scrypt` crate refuses such parameters — the Web3 Secret Storage test vector itself uses
//! `n = 2^18, r = 1` — so files with them go through this implementation. Files with ordinary
//! parameters use the `scrypt` crate. Both give identical output where both apply (tested).

use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;

/// `scrypt(password, salt, n, r, p)` into `out`. The caller has validated the parameters
/// (`n` a power of two > 1, `r`, `p` > 0, memory within limits).
pub(crate) fn scrypt(password: &[u8], salt: &[u8], n: usize, r: usize, p: usize, out: &mut [u8]) {
    let block_len = 128 * r;
    let mut b = vec![0u8; block_len * p];
    pbkdf2_hmac::<Sha256>(password, salt, 1, &mut b);
    let mut v = vec![0u32; 32 * r * n];
    let mut x = vec![0u32; 32 * r];
    let mut y = vec![0u32; 32 * r];
    for chunk in b.chunks_mut(block_len) {
        for (word, bytes) in x.iter_mut().zip(chunk.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        ro_mix(&mut x, &mut y, &mut v, n, r);
        for (word, bytes) in x.iter().zip(chunk.chunks_exact_mut(4)) {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
    }
    pbkdf2_hmac::<Sha256>(password, &b, 1, out);
}

/// ROMix over one 32·r-word block `x` (RFC 7914 §5), using `v` (N blocks) and scratch `y`.
fn ro_mix(x: &mut [u32], y: &mut [u32], v: &mut [u32], n: usize, r: usize) {
    let words = 32 * r;
    for i in 0..n {
        v[i * words..(i + 1) * words].copy_from_slice(x);
        block_mix(x, y, r);
    }
    for _ in 0..n {
        // Integerify: the first word of the last 64-byte sub-block, mod N.
        let j = (x[(2 * r - 1) * 16] as usize) & (n - 1);
        for (xi, vi) in x.iter_mut().zip(&v[j * words..(j + 1) * words]) {
            *xi ^= vi;
        }
        block_mix(x, y, r);
    }
}

/// BlockMix-Salsa20/8 (RFC 7914 §4): in place on `b`, `y` is scratch of the same length.
fn block_mix(b: &mut [u32], y: &mut [u32], r: usize) {
    let mut t = [0u32; 16];
    t.copy_from_slice(&b[(2 * r - 1) * 16..2 * r * 16]);
    for i in 0..2 * r {
        for (tk, bk) in t.iter_mut().zip(&b[i * 16..(i + 1) * 16]) {
            *tk ^= bk;
        }
        salsa20_8(&mut t);
        // Even sub-blocks go to the first half, odd ones to the second.
        let dest = if i % 2 == 0 { (i / 2) * 16 } else { (r + i / 2) * 16 };
        y[dest..dest + 16].copy_from_slice(&t);
    }
    b.copy_from_slice(y);
}

/// The Salsa20/8 core (8 rounds = 4 double rounds), feed-forward included.
fn salsa20_8(state: &mut [u32; 16]) {
    let mut x = *state;
    fn quarter(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        x[b] ^= x[a].wrapping_add(x[d]).rotate_left(7);
        x[c] ^= x[b].wrapping_add(x[a]).rotate_left(9);
        x[d] ^= x[c].wrapping_add(x[b]).rotate_left(13);
        x[a] ^= x[d].wrapping_add(x[c]).rotate_left(18);
    }
    for _ in 0..4 {
        // Columns.
        quarter(&mut x, 0, 4, 8, 12);
        quarter(&mut x, 5, 9, 13, 1);
        quarter(&mut x, 10, 14, 2, 6);
        quarter(&mut x, 15, 3, 7, 11);
        // Rows.
        quarter(&mut x, 0, 1, 2, 3);
        quarter(&mut x, 5, 6, 7, 4);
        quarter(&mut x, 10, 11, 8, 9);
        quarter(&mut x, 15, 12, 13, 14);
    }
    for (s, xi) in state.iter_mut().zip(x) {
        *s = s.wrapping_add(xi);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::scrypt;

    #[test]
    fn rfc7914_vectors() {
        let mut out = [0u8; 64];
        scrypt(b"", b"", 16, 1, 1, &mut out);
        assert_eq!(
            hex::encode(out),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        );
        scrypt(b"password", b"NaCl", 1024, 8, 16, &mut out);
        assert_eq!(
            hex::encode(out),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn matches_the_scrypt_crate(password in any::<Vec<u8>>(), salt in any::<Vec<u8>>(), log_n in 1u8..8, r in 1u32..5, p in 1u32..4) {
            let params = scrypt::Params::new(log_n, r, p, 32).unwrap();
            let mut expected = [0u8; 32];
            scrypt::scrypt(&password, &salt, &params, &mut expected).unwrap();
            let mut got = [0u8; 32];
            scrypt(&password, &salt, 1 << log_n, r as usize, p as usize, &mut got);
            prop_assert_eq!(got, expected);
        }
    }
}
