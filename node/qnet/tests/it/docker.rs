//! The generated docker-compose.yml, validated by Compose itself.

use qrs_qnet::Consensus;

use crate::common::{self, network, read};

#[test]
fn docker_compose_config_validates() {
    let net = network(Consensus::Qbft, 2, 2);
    let compose = net.path().join("docker-compose.yml");
    if std::process::Command::new("docker").arg("--version").output().is_err() {
        // straight to stderr: the test harness does not capture this
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"\n!!!!! SKIPPED docker_compose_config_validates: `docker` is not on PATH !!!!!\n",
        );
        return;
    }
    let plugin = std::process::Command::new("docker").args(["compose", "version"]).output();
    let mut cmd = if plugin.is_ok_and(|o| o.status.success()) {
        let mut c = std::process::Command::new("docker");
        c.arg("compose");
        c
    } else {
        let standalone = std::process::Command::new("docker-compose").arg("version").output();
        assert!(
            standalone.is_ok_and(|o| o.status.success()),
            "docker is installed but neither `docker compose` nor `docker-compose` is \
             (scripts/setup.sh installs docker-compose)"
        );
        std::process::Command::new("docker-compose")
    };
    let out = cmd.arg("-f").arg(&compose).arg("config").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "compose config rejected the file:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        read(net.path(), "docker-compose.yml")
    );
    for service in
        ["validator1:", "validator2:", "rpcnode:", "member1:", "member1-tm:", "member2-tm:"]
    {
        assert!(stdout.contains(service), "{service} missing from:\n{stdout}");
    }
    assert!(stdout.contains("network_mode: host"));
    assert!(stdout.contains(&common::repo_root().display().to_string()));
    // one service builds the image, the others reuse it
    assert_eq!(stdout.matches("context:").count(), 1, "{stdout}");
}
