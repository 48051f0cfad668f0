//! Two real OS processes writing to one database at the same time. The child is this test
//! binary re-run with `--ignored --exact processes::child_writer` and the URL in the environment.

use std::{collections::BTreeSet, process::Stdio};

use eyre::{WrapErr as _, ensure};
use qrs_tm_store::{StoreUrl, open_store};

use crate::{fixtures, harness::TestDb, store_tests};

const CHILD_URL: &str = "QRS_STORE_CHILD_URL";
const CHILD_TAG: &str = "QRS_STORE_CHILD_TAG";
const PER_PROCESS: u16 = 300;

store_tests!(two_processes_write_one_database);

/// Payload `i` written by the process tagged `tag`; deterministic so the other process can check it.
fn payload(tag: u8, i: u16) -> qrs_tm_store::StoredPayload {
    let mut p = fixtures::payload();
    p.hash = [0; 64];
    p.hash[0] = tag;
    p.hash[1..3].copy_from_slice(&i.to_be_bytes());
    p.encoded_payload = vec![tag; 64];
    p
}

async fn two_processes_write_one_database(db: TestDb) -> eyre::Result<()> {
    let exe = std::env::current_exe()?;
    let child = tokio::process::Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "processes::child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, db.url.to_string())
        .env(CHILD_TAG, "2")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .wrap_err("spawning the child test process")?;

    let store = db.open().await?;
    let writes: Vec<_> = (0..PER_PROCESS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.save(payload(1, i)).await })
        })
        .collect();
    for write in writes {
        write.await??;
    }
    let out = child.wait_with_output().await?;
    let log =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    ensure!(out.status.success(), "child process failed: {log}");
    ensure!(log.contains("1 passed"), "child did not run its writer test: {log}");

    assert_eq!(store.count().await?, 2 * u64::from(PER_PROCESS));
    let mut tags = BTreeSet::new();
    for tag in [1u8, 2] {
        for i in 0..PER_PROCESS {
            let found = store.find(&payload(tag, i).hash).await?;
            ensure!(
                found.is_some_and(|p| p.encoded_payload == vec![tag; 64]),
                "payload {tag}/{i} missing"
            );
        }
        tags.insert(tag);
    }
    assert_eq!(tags.len(), 2);
    Ok(())
}

/// The child half of `two_processes_write_one_database`; does nothing unless started by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper process for processes::*::two_processes_write_one_database"]
async fn child_writer() -> eyre::Result<()> {
    let Ok(url) = std::env::var(CHILD_URL) else {
        eprintln!(
            "processes::child_writer only runs as the child of two_processes_write_one_database"
        );
        return Ok(());
    };
    let tag: u8 = std::env::var(CHILD_TAG)?.parse()?;
    let store = open_store(&StoreUrl::parse(&url)?).await?;
    let writes: Vec<_> = (0..PER_PROCESS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.save(payload(tag, i)).await })
        })
        .collect();
    for write in writes {
        write.await??;
    }
    Ok(())
}
