//! Rules the CLI shares with the app through `keyward_ops`: the same scenarios run through the
//! app's command bodies in src-tauri/src/commands/keys.rs (`same_as_the_cli`). Also
//! `keys expiring`, the CLI's side of the app's "Expiring" view.

mod support;

use serde_json::Value;
use support::{closed_port_url, Sandbox};

#[test]
fn revoking_an_already_revoked_key_writes_no_activity_entry() {
    let sandbox = Sandbox::new();
    let (a, _) = sandbox.create("a", &[]);
    let (b, _) = sandbox.create("b", &[]);
    let first = sandbox.run(&["keys", "revoke", &a, "--reason", "first", "--json"]);
    assert_eq!(first.code, 0, "{first:?}");
    let again = sandbox.run(&["keys", "revoke", &a, &b, "--reason", "second", "--json"]);
    assert_eq!(again.code, 0, "{again:?}");
    let body = again.json();
    assert_eq!(
        (body["revoked"].as_u64(), body["already_revoked"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(body["outcomes"][0]["already_revoked"], true);
    assert_eq!(body["outcomes"][1]["already_revoked"], false);
    let human = sandbox.run(&["keys", "revoke", &a]);
    assert!(
        human.stdout.starts_with(&format!("already revoked: {a}")),
        "{human:?}"
    );

    let entries = sandbox.run(&["audit", "--json"]).json()["entries"]
        .as_array()
        .unwrap()
        .clone();
    let mut revoked: Vec<(String, String)> = entries
        .iter()
        .filter(|e| e["action"] == "revoked")
        .map(|e| {
            (
                e["key_id"].as_str().unwrap().to_owned(),
                e["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    revoked.sort();
    let mut expected = vec![
        (a.clone(), "first".to_owned()),
        (b.clone(), "second".to_owned()),
    ];
    expected.sort();
    assert_eq!(revoked, expected, "one entry per key this command revoked");
}

#[test]
fn expiring_lists_the_profiles_keys_soonest_first() {
    let sandbox = Sandbox::new();
    let (soon, _) = sandbox.create("soon", &["--expires", "3d"]);
    let (later, _) = sandbox.create("later", &["--expires", "30d"]);
    sandbox.create("never", &["--expires", "Never"]);
    let (gone, _) = sandbox.create("gone", &["--expires", "2d"]);
    assert_eq!(sandbox.run(&["keys", "revoke", &gone]).code, 0);

    let body = sandbox.run(&["keys", "expiring", "--json"]).json();
    assert_eq!(body["days"], 14, "two weeks by default");
    let keys = |body: &Value| -> Vec<String> {
        body["profiles"][0]["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys(&body), std::slice::from_ref(&soon));
    let wider = sandbox
        .run(&["keys", "expiring", "--within", "40", "--json"])
        .json();
    assert_eq!(keys(&wider), [soon.clone(), later.clone()], "soonest first");

    let human = sandbox.run(&["keys", "expiring"]);
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.contains(&soon) && human.stdout.contains("1 key expires within 14 days"));

    for bad in ["0", "3651", "soon"] {
        let run = sandbox.run(&["keys", "expiring", "--within", bad, "--json"]);
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(run.json_error()["field"], "within");
    }
}

#[test]
fn expiring_across_profiles_gives_each_failing_profile_its_own_error() {
    let sandbox = Sandbox::new();
    let (soon, _) = sandbox.create("soon", &["--expires", "3d"]);
    let url = closed_port_url();
    let added = sandbox.run(&[
        "profiles",
        "add",
        "down",
        "--backend",
        "clerk",
        "--url",
        &url,
        "--subject",
        "user:u_1",
    ]);
    assert_eq!(added.code, 0, "{added:?}");
    let env = [
        ("KEYWARD_CREDENTIAL_DOWN", "sk_test_whatever"),
        ("KEYWARD_HTTP_TIMEOUT_MS", "2000"),
    ];
    let run = sandbox.run_env(&["keys", "expiring", "--all-profiles", "--json"], &env);
    assert_eq!(run.code, 8, "the failing profile's status: {run:?}");
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    let profiles = body["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2);
    let down = profiles.iter().find(|p| p["profile"] == "down").unwrap();
    assert_eq!(down["error"]["code"], "network", "{down}");
    let local = profiles.iter().find(|p| p["profile"] == "local").unwrap();
    assert_eq!(local["error"], Value::Null);
    assert_eq!(local["keys"][0]["id"], soon.as_str());

    let human = sandbox.run_env(&["keys", "expiring", "--all-profiles"], &env);
    assert!(
        human.stdout.contains("PROFILE") && human.stdout.contains(&soon),
        "{human:?}"
    );
    assert!(human.stderr.contains("profile down:"), "{human:?}");
    assert!(
        !human.stdout.contains("sk_test_whatever") && !human.stderr.contains("sk_test_whatever")
    );
}

#[test]
fn owners_and_settings_do_what_the_window_does() {
    let sandbox = Sandbox::new();
    sandbox.create("a", &["--owner", "org:acme"]);
    sandbox.create("b", &["--owner", "user:u_1"]);
    sandbox.create("c", &["--owner", "org:acme"]);
    let owners = sandbox.run(&["keys", "owners", "--json"]).json();
    assert_eq!(
        owners["owners"],
        serde_json::json!(["org:acme", "user:u_1"])
    );

    let shown = sandbox.run(&["settings", "--json"]).json();
    assert_eq!(shown["clipboard_clear_seconds"], 20, "the default");
    let saved = sandbox.run(&["settings", "--clipboard-clear-seconds", "45", "--json"]);
    assert_eq!(saved.json()["clipboard_clear_seconds"], 45);
    assert_eq!(
        sandbox.run(&["settings", "--json"]).json()["clipboard_clear_seconds"],
        45
    );
    let text = std::fs::read_to_string(&sandbox.config).unwrap();
    assert!(text.contains("clipboard_clear_seconds = 45"), "{text}");
    for bad in ["0", "3601", "soon"] {
        let run = sandbox.run(&["settings", "--clipboard-clear-seconds", bad, "--json"]);
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(run.json_error()["field"], "clipboard-clear-seconds");
    }
}

#[test]
fn a_bad_keyward_clear_after_is_an_error_naming_it() {
    let sandbox = Sandbox::new();
    let (id, _) = sandbox.create("a", &[]);
    for bad in ["soon", "-1", "3601"] {
        let run = sandbox.run_env(
            &["keys", "copy", &id, "--json"],
            &[("KEYWARD_CLEAR_AFTER", bad)],
        );
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(run.json_error()["field"], "KEYWARD_CLEAR_AFTER");
    }
}
