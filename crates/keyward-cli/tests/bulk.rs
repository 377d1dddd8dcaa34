//! Bulk revoke by filter (`keys revoke --search … --yes`), against the local store and the Clerk
//! emulator with faults, and the activity log (`keyward audit`, `keyward audit export`).

mod support;

use keyward_emulators::{Faults, Flavor, RateLimit, SeedOwner};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use support::{Emu, Run, Sandbox};

fn ids_of(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

fn list_ids(sandbox: &Sandbox, env: &[(&str, &str)], extra: &[&str]) -> BTreeSet<String> {
    let mut args = vec!["keys", "list", "--json", "--limit", "1000"];
    args.extend_from_slice(extra);
    ids_of(&sandbox.run_env(&args, env).json()["items"])
}

fn audit(sandbox: &Sandbox, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["audit", "--json"];
    args.extend_from_slice(extra);
    sandbox.run(&args).json()["entries"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn revoke_by_filter_needs_yes_and_then_revokes_exactly_the_matching_keys() {
    let sandbox = Sandbox::new();
    let mut acme = BTreeSet::new();
    for i in 0..3 {
        acme.insert(
            sandbox
                .create(&format!("deploy-{i}"), &["--owner", "org:acme"])
                .0,
        );
    }
    let (other_owner, _) = sandbox.create("deploy-x", &["--owner", "org:other"]);
    let (unrelated, _) = sandbox.create("laptop", &["--owner", "org:acme"]);
    let filter = ["--search", "DEPLOY", "--owner", "org:acme"];

    // Without --yes: the count and the keys, exit 2 naming --yes, nothing revoked.
    let mut args = vec!["keys", "revoke"];
    args.extend_from_slice(&filter);
    let counted = sandbox.run(&args);
    assert_eq!(counted.code, 2, "{counted:?}");
    assert!(counted.stdout.starts_with("3 keys match:\n"), "{counted:?}");
    for id in &acme {
        assert!(counted.stdout.contains(id.as_str()), "{counted:?}");
    }
    assert!(!counted.stdout.contains(&other_owner));
    assert!(
        counted.stderr.contains("add --yes to revoke them"),
        "{counted:?}"
    );
    args.push("--json");
    let counted = sandbox.run(&args);
    assert_eq!(counted.code, 2, "{counted:?}");
    let preview: Value = serde_json::from_str(&counted.stdout).unwrap();
    assert_eq!(preview["matched"], 3);
    assert_eq!(ids_of(&preview["keys"]), acme);
    let error: Value = serde_json::from_str(counted.stderr.trim()).unwrap();
    assert_eq!(error["error"]["code"], "invalid_input");
    assert_eq!(error["error"]["field"], "yes");
    assert!(list_ids(&sandbox, &[], &["--status", "revoked"]).is_empty());

    // With --yes: exactly those, with JSON results.
    args.extend_from_slice(&["--yes", "--reason", "acme offboarding"]);
    let run = sandbox.run(&args);
    let body = run.json();
    assert_eq!(body["revoked"], 3);
    assert_eq!(body["failed"], 0);
    assert_eq!(body["untouched"], 0);
    assert_eq!(ids_of(&body["outcomes"]), acme);
    for outcome in body["outcomes"].as_array().unwrap() {
        assert_eq!(outcome["status"], "revoked");
        assert_eq!(outcome["attempts"], 1);
        assert_eq!(outcome["key"]["status"], "revoked");
        assert_eq!(outcome["key"]["revocation_reason"], "acme offboarding");
    }
    assert_eq!(list_ids(&sandbox, &[], &["--status", "revoked"]), acme);
    assert_eq!(
        list_ids(&sandbox, &[], &["--status", "active"]),
        BTreeSet::from([other_owner, unrelated])
    );

    // Revoked keys are never selected again: nothing matches, nothing to confirm.
    let again = sandbox.run(&args);
    assert_eq!(
        again.json(),
        serde_json::json!({"outcomes": [], "revoked": 0, "failed": 0, "untouched": 0,
                           "already_revoked": 0, "activity_error": null})
    );
    let human = sandbox.run(&[
        "keys", "revoke", "--search", "deploy", "--owner", "org:acme",
    ]);
    assert_eq!(
        (human.code, human.stdout.as_str()),
        (0, "No keys match; nothing was revoked.\n")
    );

    // Ids and a filter together, or neither, are refused before anything happens.
    let both = sandbox.run(&["keys", "revoke", "key_1", "--search", "x", "--json"]);
    assert_eq!(both.json_error()["field"], "id");
    let neither = sandbox.run(&["keys", "revoke", "--yes", "--json"]);
    assert_eq!(neither.json_error()["field"], "id");
    let bad = sandbox.run(&["keys", "revoke", "--unused-for", "0", "--yes", "--json"]);
    assert_eq!(bad.json_error()["field"], "unused-for");
    let bad = sandbox.run(&[
        "keys",
        "revoke",
        "--search",
        "x",
        "--concurrency",
        "0",
        "--json",
    ]);
    assert_eq!(bad.json_error()["field"], "concurrency");
}

#[test]
fn usage_and_expiry_filters_select_what_they_say() {
    let sandbox = Sandbox::new();
    let (used, secret) = sandbox.create("used", &["--expires", "90d"]);
    let (soon, _) = sandbox.create("soon", &["--expires", "5d"]);
    let (later, _) = sandbox.create("later", &["--expires", "60d"]);
    let verified = sandbox.run_with_stdin(&["keys", "verify"], &secret);
    assert_eq!(verified.code, 0, "{verified:?}");

    // Listing with the same flags.
    assert_eq!(
        list_ids(&sandbox, &[], &["--expiring-within", "10"]),
        BTreeSet::from([soon.clone()])
    );
    assert_eq!(
        list_ids(&sandbox, &[], &["--status", "expiring"]),
        BTreeSet::from([soon.clone()])
    );
    assert_eq!(
        list_ids(&sandbox, &[], &["--never-used"]),
        BTreeSet::from([soon.clone(), later.clone()])
    );
    let by_status = sandbox
        .run(&["keys", "list", "--sort", "status", "--json"])
        .json();
    assert_eq!(by_status["items"].as_array().unwrap().len(), 3);

    // Revoking by them.
    let run = sandbox.run(&[
        "keys",
        "revoke",
        "--expiring-within",
        "10",
        "--yes",
        "--json",
    ]);
    assert_eq!(ids_of(&run.json()["outcomes"]), BTreeSet::from([soon]));
    let run = sandbox.run(&["keys", "revoke", "--never-used", "--yes", "--json"]);
    assert_eq!(ids_of(&run.json()["outcomes"]), BTreeSet::from([later]));
    assert_eq!(
        list_ids(&sandbox, &[], &["--status", "active"]),
        BTreeSet::from([used])
    );
}

/// A Clerk profile on an emulator, with `count` keys of its user seeded.
fn clerk(count: usize) -> (Emu, Sandbox, (String, String)) {
    let emu = Emu::start(Flavor::Clerk);
    let sandbox = Sandbox::new();
    let creds = emu.credentials().clerk().unwrap().clone();
    let url = emu.url();
    let subject = format!("user:{}", creds.user_id);
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
    emu.seed(count, SeedOwner::User);
    (
        emu,
        sandbox,
        ("KEYWARD_CREDENTIAL_CLERK".to_owned(), creds.secret_key),
    )
}

#[test]
fn failed_revokes_show_their_reason_and_a_retry_of_the_failed_ids_finishes() {
    let (emu, sandbox, (var, credential)) = clerk(30);
    let env = [(var.as_str(), credential.as_str())];
    let ids: Vec<String> = list_ids(&sandbox, &env, &[]).into_iter().collect();
    assert_eq!(ids.len(), 30);

    // Most requests fail with a 500; the HTTP layer's retries get some keys through.
    emu.set_faults(Faults {
        failure_rate: 0.6,
        ..Faults::default()
    });
    let mut args = vec!["keys", "revoke", "--json", "--reason", "rotation"];
    args.extend(ids.iter().map(String::as_str));
    let run = sandbox.run_env(&args, &env);
    let body: Value = serde_json::from_str(&run.stdout).expect("JSON results");
    let (revoked, failed) = (
        body["revoked"].as_u64().unwrap(),
        body["failed"].as_u64().unwrap(),
    );
    assert!(revoked > 0 && failed > 0, "{body}");
    assert_eq!(revoked + failed, 30);
    assert_eq!(run.code, 8, "a backend failure exits 8: {run:?}");
    let failed_ids: Vec<String> = body["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "failed")
        .map(|o| {
            assert_eq!(o["error"]["code"], "backend", "{o}");
            assert!(o.get("key").is_none());
            o["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(!run.stdout.contains(&credential) && !run.stderr.contains(&credential));

    // The failed ones are still active; retrying only them finishes the job.
    emu.set_faults(Faults::default());
    let active = list_ids(&sandbox, &env, &["--status", "active"]);
    assert_eq!(active, failed_ids.iter().cloned().collect());
    let mut retry = vec!["keys", "revoke", "--json", "--reason", "rotation"];
    retry.extend(failed_ids.iter().map(String::as_str));
    let body = sandbox.run_env(&retry, &env).json();
    assert_eq!(body["revoked"].as_u64().unwrap(), failed);
    assert!(list_ids(&sandbox, &env, &["--status", "active"]).is_empty());

    // The activity log has both the failures and the retries.
    let entries = audit(&sandbox, &["--limit", "1000"]);
    let count = |action: &str| entries.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("revoked"), 30);
    assert_eq!(count("revoke_failed") as u64, failed);
    assert!(entries
        .iter()
        .all(|e| e["profile"] == "clerk" && e["backend"] == "clerk" && e["reason"] == "rotation"));
}

#[test]
fn a_rate_limit_pauses_the_run_and_every_key_still_ends_revoked() {
    let (emu, sandbox, (var, credential)) = clerk(25);
    let env = [(var.as_str(), credential.as_str())];
    emu.set_faults(Faults {
        rate_limit: Some(RateLimit {
            requests: 10,
            window: Duration::from_secs(2),
        }),
        ..Faults::default()
    });
    let run = sandbox.run_env(
        &["keys", "revoke", "--search", "seeded", "--yes", "--json"],
        &env,
    );
    let body = run.json();
    assert_eq!(body["revoked"], 25, "{body}");
    assert_eq!(body["failed"], 0);
    let retried = body["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["attempts"].as_u64().unwrap() > 1)
        .count();
    assert!(retried > 0, "some keys met the rate limit: {body}");
    emu.set_faults(Faults::default());
    assert!(list_ids(&sandbox, &env, &["--status", "active"]).is_empty());
}

#[test]
fn audit_shows_and_exports_what_the_cli_did() {
    let sandbox = Sandbox::new();
    // Nothing yet: an empty answer, and no file is made by reading.
    assert_eq!(sandbox.run(&["audit"]).stdout, "No activity recorded.\n");
    let empty = sandbox.run(&["audit", "export", "--format", "csv"]);
    assert_eq!(
        empty.stdout,
        "id,at,profile,backend,action,key_id,key_name,reason,error_code,error_message\r\n"
    );
    assert_eq!(
        sandbox.run(&["audit", "export", "--format", "json"]).stdout,
        "[]\n"
    );
    assert!(!sandbox.data_dir.join("activity.db").exists());

    let (first, secret) = sandbox.create("=cmd|' /C calc'!A0", &[]);
    let (second, _) = sandbox.create("ci, nightly", &[]);
    let revoke = sandbox.run(&[
        "keys",
        "revoke",
        &first,
        "key_missing",
        "--reason",
        "lost \"laptop\"",
        // One at a time: entries are written as each key's revoke completes, so this fixes
        // their order.
        "--concurrency",
        "1",
    ]);
    assert_eq!(revoke.code, 5, "{revoke:?}");

    let entries = audit(&sandbox, &[]);
    let summary: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["key_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("revoke_failed".to_owned(), "key_missing".to_owned()),
            ("revoked".to_owned(), first.clone()),
            ("created".to_owned(), second.clone()),
            ("created".to_owned(), first.clone()),
        ]
    );
    assert_eq!(entries[0]["error_code"], "not_found");
    assert_eq!(entries[1]["reason"], "lost \"laptop\"");
    assert_eq!(entries[1]["profile"], "local");
    assert_eq!(entries[1]["backend"], "local");

    // Search and limit.
    assert_eq!(audit(&sandbox, &["--search", "LAPTOP"]).len(), 2);
    assert_eq!(audit(&sandbox, &["--search", "created"]).len(), 2);
    let page = sandbox.run(&["audit", "--limit", "1", "--json"]).json();
    assert_eq!(page["total"], 4);
    assert_eq!(page["entries"].as_array().unwrap().len(), 1);
    let human = sandbox.run(&["audit"]);
    assert!(human.stdout.contains("revoke_failed"), "{human:?}");
    assert!(
        human.stdout.ends_with("4 of 4 entries (newest first)\n"),
        "{human:?}"
    );
    assert_eq!(
        sandbox
            .run(&["audit", "--limit", "0", "--json"])
            .json_error()["field"],
        "limit"
    );

    // CSV on stdout: header, quoting, formula defused.
    let csv = sandbox.run(&["audit", "export", "--format", "csv"]);
    assert_eq!(csv.code, 0, "{csv:?}");
    let lines: Vec<&str> = csv.stdout.split("\r\n").collect();
    assert_eq!(lines.len(), 6, "header, 4 rows, and the end: {csv:?}");
    assert!(lines[0].starts_with("id,at,profile"));
    assert!(csv.stdout.contains("\"lost \"\"laptop\"\"\""), "{csv:?}");
    assert!(csv.stdout.contains(",\"ci, nightly\","), "{csv:?}");
    assert!(csv.stdout.contains(",'=cmd|' /C calc'!A0,"), "{csv:?}");

    // JSON to a file.
    let file = sandbox.root().join("audit.json");
    let path = file.to_str().unwrap();
    let written = sandbox
        .run(&[
            "audit", "export", "--format", "json", "--output", path, "--search", "created",
            "--json",
        ])
        .json();
    assert_eq!(written["count"], 2);
    assert_eq!(written["path"], path);
    let exported: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let exported_ids: BTreeSet<String> = exported
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(exported_ids, BTreeSet::from([first, second]));
    let human = sandbox.run(&["audit", "export", "--format", "csv", "--output", path]);
    assert_eq!(human.stdout, format!("4 entries written to {path}\n"));

    let bad = sandbox.run(&["audit", "export", "--format", "xml", "--json"]);
    assert_eq!(bad.json_error()["field"], "format");

    // No secret anywhere in the log or its exports.
    for bytes in sandbox.files().values() {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    assert!(!csv.stdout.contains(&secret));
}

#[test]
fn a_log_that_cannot_be_written_warns_but_the_command_succeeds() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(&sandbox.data_dir).unwrap();
    std::fs::write(sandbox.data_dir.join("activity.db"), vec![0x5a; 4096]).unwrap();
    let run: Run = sandbox.run(&["keys", "create", "--name", "k", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("warning: not recorded in the activity log"),
        "{run:?}"
    );
    let id = run.json()["key"]["id"].as_str().unwrap().to_owned();
    let revoked = sandbox.run(&["keys", "revoke", &id]);
    assert_eq!(revoked.code, 0, "{revoked:?}");
    assert!(
        revoked.stderr.contains("warning: not recorded"),
        "{revoked:?}"
    );
}
