//! A bulk revoke killed part-way (SIGKILL: no destructor, no flush at the end) still has an
//! activity entry for every key it really revoked, because each entry is written as the key's
//! revoke completes (`keyward_ops::revoke::revoke`).

mod support;

use keyward_emulators::{Faults, Flavor, SeedOwner};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::{Emu, Sandbox};

const KEYS: usize = 40;
/// Each request waits this long in the emulator before it is handled (and a revoke applied).
const LATENCY: Duration = Duration::from_millis(400);

fn ids(value: &Value, member: &str, keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    value[member]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| keep(v))
        .map(|v| {
            v[if member == "items" { "id" } else { "key_id" }]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn revoke_requests(emu: &Emu) -> u64 {
    emu.stats()
        .iter()
        .filter(|(route, _)| route.starts_with("POST ") && route.ends_with("/revoke"))
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn a_revoke_killed_part_way_has_recorded_every_key_it_revoked() {
    let emu = Emu::start(Flavor::Clerk);
    let sandbox = Sandbox::new();
    let creds = emu.credentials().clerk().unwrap().clone();
    let subject = format!("user:{}", creds.user_id);
    let url = emu.url();
    let added = sandbox.run(&[
        "profiles",
        "add",
        "clerk",
        "--backend",
        "clerk",
        "--url",
        &url,
        "--subject",
        &subject,
    ]);
    assert_eq!(added.code, 0, "{added:?}");
    assert_eq!(sandbox.run(&["profiles", "use", "clerk"]).code, 0);
    emu.seed(KEYS, SeedOwner::User);
    let env = [("KEYWARD_CREDENTIAL_CLERK", creds.secret_key.as_str())];

    emu.set_faults(Faults {
        latency: LATENCY,
        ..Faults::default()
    });
    let mut child = sandbox
        .command(&[
            "keys",
            "revoke",
            "--search",
            "seeded",
            "--yes",
            "--concurrency",
            "4",
            "--reason",
            "killed",
            "--json",
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("keyward starts");
    // Once the second round of revokes has reached the emulator, the first round is done;
    // halfway through the second round's wait nothing is being applied, and the kill lands.
    let waited = Instant::now();
    while revoke_requests(&emu) < 8 {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the revokes never started"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "keyward ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(LATENCY / 2);
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    child.wait().unwrap();
    // Requests the killed process had sent are still applied once their wait is over.
    std::thread::sleep(LATENCY * 2);
    emu.set_faults(Faults::default());

    let listed = sandbox.run_env(
        &[
            "keys", "list", "--status", "revoked", "--limit", "1000", "--json",
        ],
        &env,
    );
    let revoked = ids(&listed.json(), "items", |_| true);
    let audit = sandbox.run(&["audit", "--limit", "1000", "--json"]).json();
    let recorded = ids(&audit, "entries", |e| e["action"] == "revoked");
    println!(
        "killed part-way: {} of {KEYS} keys revoked on the emulator, {} recorded",
        revoked.len(),
        recorded.len()
    );
    assert!(
        !revoked.is_empty() && revoked.len() < KEYS,
        "the kill came part-way: {} revoked",
        revoked.len()
    );
    let missing: Vec<_> = revoked.difference(&recorded).collect();
    assert!(missing.is_empty(), "revoked but not recorded: {missing:?}");
    assert!(audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["reason"] == "killed" && e["profile"] == "clerk"));
}
