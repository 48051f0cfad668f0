//! Private transactions end to end on a 4-node QBFT network where members 1-3 each have their
//! own `qtm`: web3js-quorum 22.4 (unmodified) and ethers v6 drive it (`tests/js/private.test.cjs`).

use std::{path::Path, process::Command, time::Duration};

use qrs_e2e::{Consensus, DEV_ADDRESS, DEV_KEY, TestNet};
use serde_json::{Value, json};

#[test]
fn private_transactions_with_web3js_quorum_and_ethers() -> eyre::Result<()> {
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_full(consensus, 4, 4, 3)?;
    run_private_js(&mut net, false)?;
    Ok(())
}

/// Runs `tests/js/private.test.cjs` against members 1-3 of `net` (`pmt`: the nodes run with
/// `--privacymarker.enable`); returns the runner's TAP output after checking it passed.
pub(crate) fn run_private_js(net: &mut TestNet, pmt: bool) -> eyre::Result<String> {
    net.wait_for_height(1, Duration::from_secs(30))?;
    // member1's node holds and unlocks the account it signs with (node-signed privateFor)
    let rpc = net.rpc(0)?;
    let imported: Value =
        rpc.req("personal_importRawKey", json!([DEV_KEY.to_string(), "member1"]))?;
    assert_eq!(imported.as_str().map(str::to_lowercase), Some(format!("{DEV_ADDRESS:#x}")));
    rpc.req::<Value>("personal_unlockAccount", json!([DEV_ADDRESS, "member1", 0]))?;

    let members: Vec<Value> = (0..3)
        .map(|i| {
            json!({"rpc": net.node(i).http_url(), "tp": net.tms[i].third_party, "key": net.tms[i].public_key})
        })
        .collect();
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    let out = Command::new("node")
        .arg("--test")
        .arg("private.test.cjs")
        .current_dir(&script_dir)
        .env("QRS_MEMBERS", serde_json::to_string(&members)?)
        .env("QRS_DEV_KEY", DEV_KEY.to_string())
        .env("QRS_PMT", if pmt { "1" } else { "0" })
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("# fail 0"),
        "private transaction JS tests failed:\n{stdout}\n{}\n---- node logs (warnings, errors, private) ----\n{}",
        String::from_utf8_lossy(&out.stderr),
        net.log_lines(&["WARN", "ERROR", "rivate", "ptm", "dropping"])
    );
    net.assert_no_fork()?;
    Ok(stdout.into_owned())
}
