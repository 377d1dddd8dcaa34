//! `keyward keys update` (issue 10): on the local store, extend, never, a description, a rename,
//! each printed and recorded; on a FreeSewing profile (no updates), a refusal naming the field
//! with no request sent.

mod support;

use chrono::{DateTime, Duration, Utc};
use keyward_emulators::{Flavor, SeedOwner};
use support::{Emu, Sandbox};

fn expires_at(key: &serde_json::Value) -> Option<DateTime<Utc>> {
    key["expires_at"].as_str().map(|t| t.parse().unwrap())
}

#[test]
fn a_local_key_is_extended_made_never_expiring_described_and_renamed() {
    let sandbox = Sandbox::new();
    let (id, secret) = sandbox.create("laptop", &["--expires", "14d"]);

    let extended = sandbox
        .run(&["keys", "update", &id, "--expires", "90d", "--json"])
        .json();
    let at = expires_at(&extended["key"]).expect("an expiry");
    assert!((at - (Utc::now() + Duration::days(90))).num_minutes().abs() < 5);
    let shown = sandbox.run(&["keys", "get", &id, "--json"]).json();
    assert_eq!(expires_at(&shown), Some(at), "get shows the new expiry");

    let described = sandbox.run(&[
        "keys",
        "update",
        &id,
        "--expires",
        "never",
        "--description",
        "the build laptop",
    ]);
    assert_eq!(described.code, 0, "{described:?}");
    assert!(
        described.stdout.starts_with("Updated key laptop ("),
        "{described:?}"
    );
    assert!(described.stdout.contains("never"), "{described:?}");
    assert!(
        described.stdout.contains("the build laptop"),
        "{described:?}"
    );

    let renamed = sandbox
        .run(&[
            "keys",
            "update",
            &id,
            "--name",
            "old laptop",
            "--description",
            "",
            "--json",
        ])
        .json();
    assert_eq!(renamed["key"]["name"], "old laptop");
    assert!(renamed["key"]["description"].is_null(), "cleared");
    assert!(renamed["key"]["expires_at"].is_null(), "still never");

    let audit = sandbox.run(&["audit", "--json"]).json();
    let text = audit.to_string();
    assert!(!text.contains(&secret), "no secret in the log");
    let updates: Vec<_> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "updated")
        .map(|e| e["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(updates.len(), 3, "{audit}");
    assert_eq!(updates[0], "name → \"old laptop\"; description cleared");
    assert_eq!(updates[1], "description changed; expiry → never");
    assert!(updates[2].starts_with("expiry → 20"), "{}", updates[2]);
}

#[test]
fn bad_updates_are_refused_naming_the_field_and_change_nothing() {
    let sandbox = Sandbox::new();
    let (id, _) = sandbox.create("ci", &[]);
    let before = sandbox.run(&["keys", "get", &id, "--json"]).json();
    for (args, field) in [
        (vec!["--expires", "soon"], "expires"),
        (vec!["--expires", "2001-01-01"], "expires"),
        (vec!["--name", "  "], "name"),
        (vec!["--scope", "read"], "scope"),
        (vec![], "update"),
    ] {
        let mut command = vec!["keys", "update", id.as_str()];
        command.extend(args);
        command.push("--json");
        let run = sandbox.run(&command);
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(run.json_error()["field"], field, "{run:?}");
    }
    let missing = sandbox.run(&["keys", "update", "key_missing", "--expires", "90d"]);
    assert_eq!(missing.code, 5, "{missing:?}");
    assert_eq!(sandbox.run(&["keys", "get", &id, "--json"]).json(), before);
}

#[test]
fn a_backend_without_updates_refuses_by_field_before_any_request() {
    let emu = Emu::start(Flavor::FreeSewing);
    let sandbox = Sandbox::new();
    let url = emu.url();
    let added = sandbox.run(&[
        "profiles",
        "add",
        "sewing",
        "--backend",
        "freesewing",
        "--url",
        &url,
        "--auth",
        "key",
    ]);
    assert_eq!(added.code, 0, "{added:?}");
    let credentials = emu.credentials().freesewing().unwrap().clone();
    let credential = format!("{}:{}", credentials.api_key, credentials.api_secret);
    let env = [("KEYWARD_CREDENTIAL_SEWING", credential.as_str())];
    let id = emu.seed(1, SeedOwner::User).remove(0);
    emu.reset_stats();
    for (flag, value, field) in [
        ("--expires", "OneYear", "expires"),
        ("--description", "d", "description"),
        ("--name", "n", "name"),
    ] {
        let run = sandbox.run_env(
            &[
                "--profile",
                "sewing",
                "keys",
                "update",
                &id,
                flag,
                value,
                "--json",
            ],
            &env,
        );
        assert_eq!(run.code, 2, "{run:?}");
        let error = run.json_error();
        assert_eq!(error["field"], field, "{run:?}");
        assert!(
            error["message"].as_str().unwrap().contains("cannot change"),
            "{run:?}"
        );
    }
    assert_eq!(emu.request_count(), 0, "nothing was sent");
}
