//! Integration tests of qrs-enclave: codec, keys, enclave operations against the in-process
//! enclave and the real `qenclave` process, PyNaCl cross-checks, property tests.

mod codec;
mod enclave_ops;
mod keys;
mod props;
mod pynacl;
mod qenclave;
mod support;
