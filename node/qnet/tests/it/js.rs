//! A generated QBFT network driven as the README shows a new user: `qnet up` on the default
//! topology (4 validators, an RPC node, 3 members with TMs), then the unmodified JS clients from
//! `tests/js` with endpoints and keys read from network.json: ethers v6 deploys publicly
//! through the RPC node and every node follows (`network.test.mjs`); web3js-quorum deploys
//! privately from member1 to member3 and member2 sees nothing, ethers v6 does the raw private
//! path by hand (`private.test.cjs`); and the README's own example (`examples/deploy.mjs`, which
//! the README quotes verbatim) runs as written.

use std::{path::Path, process::Command, time::Instant};

use serde_json::json;

use crate::{common::repo_root, run_common::NetDir};

/// Runs `node --test <script>` in tests/js with `env`; fails with its output unless every
/// test passed.
fn node_test(script: &str, env: &[(&str, String)]) {
    let started = Instant::now();
    let mut cmd = Command::new("node");
    cmd.arg("--test").arg(script).current_dir(repo_root().join("tests").join("js"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out =
        cmd.output().unwrap_or_else(|e| panic!("running node (Node.js >= 20 is required): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("# fail 0") && !stdout.contains("# pass 0\n"),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{script}: passed in {:?}", started.elapsed());
}

fn key(dir: &Path, rel: &Path) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap().trim().to_owned()
}

#[test]
fn readme_user_deploys_publicly_and_privately_with_ethers_and_web3js_quorum() {
    let net = NetDir::new();
    let up = net.up(&["--block-period", "1"]);
    assert!(up.ok, "qnet up failed: {up}");
    eprintln!("qnet up (default topology): healthy after {:?}", up.elapsed);
    let json = net.json();
    let node = |name: &str| json.node(name).unwrap_or_else(|| panic!("{name} in network.json"));
    let m1 = node("member1");
    // member1's account: funded, and unlocked on member1's node (node-signed privateFor)
    let dev_key = key(&net.dir, &m1.account_key_file);

    let rpc_urls = ["rpcnode", "member2", "validator1"].map(|n| node(n).rpc.clone()).join(",");
    node_test("network.test.mjs", &[("QRS_RPC_URLS", rpc_urls), ("QRS_DEV_KEY", dev_key.clone())]);

    let members: Vec<_> = ["member1", "member2", "member3"]
        .map(node)
        .iter()
        .map(|m| {
            let tm = m.tm.as_ref().unwrap();
            json!({ "rpc": m.rpc, "tp": tm.third_party, "key": tm.public_key })
        })
        .collect();
    node_test(
        "private.test.cjs",
        &[("QRS_MEMBERS", serde_json::to_string(&members).unwrap()), ("QRS_DEV_KEY", dev_key)],
    );

    readme_example_runs(&net.dir);

    let status = net.status();
    assert!(status.ok, "the network is still healthy: {status}");
}

/// The example file, as the README shows it.
fn example() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/deploy.mjs")).unwrap()
}

#[test]
fn the_readme_quotes_the_example_verbatim() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(readme.contains(&example()), "README.md does not quote node/qnet/examples/deploy.mjs");
}

/// Runs `examples/deploy.mjs` as a user would from the clone (`network/` and `contracts/`
/// beside it), with the JS packages of tests/js (where web3 1.x, which web3js-quorum wraps, is
/// installed as `web3-v1`).
fn readme_example_runs(network: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = example().replace("from \"web3\";", "from \"web3-v1\";");
    assert!(script.contains("web3-v1"), "the example imports web3");
    std::fs::write(d.join("deploy.mjs"), script).unwrap();
    let root = repo_root();
    std::os::unix::fs::symlink(root.join("tests/js/node_modules"), d.join("node_modules")).unwrap();
    std::os::unix::fs::symlink(root.join("contracts"), d.join("contracts")).unwrap();
    std::os::unix::fs::symlink(network, d.join("network")).unwrap();
    let started = Instant::now();
    let out = Command::new("node").arg("deploy.mjs").current_dir(d).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "examples/deploy.mjs failed: {summary}");
    assert!(stdout.contains(" holds 47n"), "{summary}");
    assert!(stdout.contains("member1 reads 42 member2 sees code 0x\n"), "{summary}");
    eprintln!("examples/deploy.mjs: passed in {:?}", started.elapsed());
}
