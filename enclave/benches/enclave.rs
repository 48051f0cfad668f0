//! Encrypt / decrypt of 1 KiB payloads with 1 and 10 recipients, for both suites.
//!
//! `encrypt` and `decrypt` run with warm shared-key caches (the steady state of a node talking
//! to known peers); `encrypt_cold` builds a fresh enclave per iteration (setup not timed), so
//! every X25519 + key derivation is paid.

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qrs_enclave::{
    CryptoSuite, Enclave, EnclaveConfig, KeyPair, LocalEnclave, PrivacyMetadata, PrivateKey,
    PublicKey,
};

const SUITES: [(CryptoSuite, &str); 2] =
    [(CryptoSuite::Nacl, "nacl"), (CryptoSuite::X25519ChaCha20Poly1305, "x25519-xchacha20")];

struct Setup {
    config: EnclaveConfig,
    sender: PublicKey,
    recipients: Vec<PublicKey>,
}

fn setup(suite: CryptoSuite, recipient_count: usize) -> Setup {
    let sender = KeyPair::from_private(PrivateKey::generate());
    // The first recipient is local too, so the enclave can decrypt as a recipient.
    let local_recipient = KeyPair::from_private(PrivateKey::generate());
    let mut recipients = vec![local_recipient.public];
    recipients.extend((1..recipient_count).map(|_| PrivateKey::generate().public_key()));
    Setup {
        sender: sender.public,
        config: EnclaveConfig {
            keys: vec![sender, local_recipient],
            forwarding_keys: vec![],
            suite,
        },
        recipients,
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let message = vec![0x5a_u8; 1024];
    let meta = PrivacyMetadata::standard();
    let mut group = c.benchmark_group("enclave_1KiB");
    group.throughput(Throughput::Bytes(message.len() as u64));
    for (suite, suite_name) in SUITES {
        for recipient_count in [1usize, 10] {
            let s = setup(suite, recipient_count);
            let enclave = LocalEnclave::new(s.config.clone()).unwrap();
            let id = |op: &str| {
                BenchmarkId::new(
                    format!("{op}/{suite_name}"),
                    format!("{recipient_count}_recipients"),
                )
            };

            group.bench_function(id("encrypt"), |b| {
                b.iter(|| {
                    runtime
                        .block_on(enclave.encrypt_payload(&message, s.sender, &s.recipients, &meta))
                        .unwrap()
                })
            });

            group.bench_function(id("encrypt_cold"), |b| {
                b.iter_batched(
                    || LocalEnclave::new(s.config.clone()).unwrap(),
                    |fresh| {
                        runtime
                            .block_on(fresh.encrypt_payload(
                                &message,
                                s.sender,
                                &s.recipients,
                                &meta,
                            ))
                            .unwrap()
                    },
                    BatchSize::SmallInput,
                )
            });

            let payload = runtime
                .block_on(enclave.encrypt_payload(&message, s.sender, &s.recipients, &meta))
                .unwrap();
            let reader = s.recipients[0];
            group.bench_function(id("decrypt"), |b| {
                b.iter(|| {
                    runtime.block_on(enclave.unencrypt_transaction(&payload, reader)).unwrap()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
