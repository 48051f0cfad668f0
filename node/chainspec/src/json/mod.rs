//! JSON decoding helpers shared by the genesis and config types.

pub(crate) mod keys;
pub mod num;
