//! Framing of QBFT messages on [`qrs_network::Topic::Consensus`]: one byte of GoQuorum p2p
//! message code (0x12 PRE-PREPARE, 0x13 PREPARE, 0x14 COMMIT, 0x15 ROUND-CHANGE) followed by the
//! message's RLP payload exactly as GoQuorum sends it.

use bytes::Bytes;
use qrs_qbft::messages::{PREPREPARE_CODE, ROUND_CHANGE_CODE};

/// Why a consensus frame was refused (the sender is penalised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// No bytes at all.
    #[error("empty consensus frame")]
    Empty,
    /// A code outside 0x12..=0x15.
    #[error("unknown consensus message code {0:#x}")]
    UnknownCode(u8),
    /// A code without a payload.
    #[error("consensus frame without payload")]
    NoPayload,
}

/// `code ‖ payload`.
pub fn encode_frame(code: u64, payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(payload.len().saturating_add(1));
    out.push(u8::try_from(code).unwrap_or(u8::MAX));
    out.extend_from_slice(payload);
    out.into()
}

/// Splits a frame into its code and payload.
pub fn decode_frame(frame: &[u8]) -> Result<(u64, &[u8]), FrameError> {
    let (&code, payload) = frame.split_first().ok_or(FrameError::Empty)?;
    let code64 = u64::from(code);
    if !(PREPREPARE_CODE..=ROUND_CHANGE_CODE).contains(&code64) {
        return Err(FrameError::UnknownCode(code));
    }
    if payload.is_empty() {
        return Err(FrameError::NoPayload);
    }
    Ok((code64, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_frames_are_refused() {
        let f = encode_frame(0x13, &[0xc1, 0x80]);
        assert_eq!(decode_frame(&f), Ok((0x13, &[0xc1u8, 0x80][..])));
        let cases: [(&[u8], FrameError); 4] = [
            (&[], FrameError::Empty),
            (&[0x11, 0xc0], FrameError::UnknownCode(0x11)),
            (&[0x16, 0xc0], FrameError::UnknownCode(0x16)),
            (&[0x12], FrameError::NoPayload),
        ];
        for (frame, want) in cases {
            assert_eq!(decode_frame(frame), Err(want), "{frame:?}");
        }
    }
}
