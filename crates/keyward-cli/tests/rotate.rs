//! `keyward keys rotate` and `keyward keys scheduled` (issue 10) on the local store: a rotation
//! prints the new secret once and revokes the old key at once or after a grace period; a pending
//! revoke is listed, marked on the old key, cancellable, and carried out by `--run-due` once due.

mod support;

use chrono::{Duration, Utc};
use keyward_local::{NewScheduledRevoke, ScheduledRevokes};
use support::Sandbox;

fn audit_reasons(sandbox: &Sandbox) -> Vec<(String, String, Option<String>)> {
    let audit = sandbox.run(&["audit", "--json"]).json();
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["key_id"].as_str().unwrap().to_owned(),
                e["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn key_json(sandbox: &Sandbox, id: &str) -> serde_json::Value {
    sandbox.run(&["keys", "get", id, "--json"]).json()
}

#[test]
fn rotating_now_prints_the_new_secret_once_and_revokes_the_old_key() {
    let sandbox = Sandbox::new();
    let (old_id, old_secret) = sandbox.create(
        "laptop",
        &["--expires", "14d", "--description", "build box"],
    );

    let human = sandbox.run(&["keys", "rotate", &old_id]);
    assert_eq!(human.code, 0, "{human:?}");
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "a head line and the secret: {human:?}");
    assert!(lines[0].starts_with("Created key laptop ("), "{human:?}");
    assert!(lines[1].starts_with("kw_"), "{human:?}");
    assert!(human.stderr.contains("shown once"), "{human:?}");
    assert!(human.stderr.contains("is revoked"), "{human:?}");
    let new_id = lines[0].split(['(', ')']).nth(1).unwrap().to_owned();

    let old = key_json(&sandbox, &old_id);
    assert_eq!(old["status"], "revoked");
    let new = key_json(&sandbox, &new_id);
    assert_eq!(new["status"], "active");
    assert_eq!(new["name"], "laptop");
    assert_eq!(new["description"], "build box");

    // The new key works: its secret verifies, the old one no longer does.
    let verified =
        sandbox.run_with_stdin(&["keys", "verify", "--json"], &format!("{}\n", lines[1]));
    assert_eq!(verified.code, 0, "{verified:?}");
    let old_verified =
        sandbox.run_with_stdin(&["keys", "verify", "--json"], &format!("{old_secret}\n"));
    assert_eq!(old_verified.code, 10, "{old_verified:?}");

    let audit = audit_reasons(&sandbox);
    assert!(audit.contains(&(
        "revoked".into(),
        old_id.clone(),
        Some(format!("rotated (replaced by {new_id})"))
    )));
    assert!(audit.contains(&("created".into(), new_id.clone(), None)));
    let log = sandbox.run(&["audit", "--json"]).stdout;
    assert!(
        !log.contains(lines[1]) && !log.contains(&old_secret),
        "no secret in the log"
    );
}

#[test]
fn a_grace_period_is_listed_marked_cancellable_and_carried_out_once_due() {
    let sandbox = Sandbox::new();
    let (old_id, _) = sandbox.create("ci", &["--expires", "30d"]);

    let rotated = sandbox
        .run(&["keys", "rotate", &old_id, "--grace", "24h", "--json"])
        .json();
    assert!(rotated["secret"].as_str().unwrap().starts_with("kw_"));
    assert_eq!(rotated["old_key_id"], old_id.as_str());
    assert_eq!(rotated["old_key_revoked"], false);
    let due: chrono::DateTime<Utc> = rotated["revoke_scheduled_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (due - (Utc::now() + Duration::hours(24)))
            .num_minutes()
            .abs()
            < 5
    );
    let new_id = rotated["key"]["id"].as_str().unwrap().to_owned();
    let length = |key: &serde_json::Value| {
        let at = |field: &str| -> chrono::DateTime<Utc> {
            key[field].as_str().unwrap().parse().unwrap()
        };
        at("expires_at") - at("created_at")
    };
    assert!(
        (length(&rotated["key"]) - Duration::days(30))
            .num_seconds()
            .abs()
            < 5,
        "the same expiry length"
    );

    // Marked on the old key, in --json and in the table.
    let listed = sandbox.run(&["keys", "list", "--json"]).json();
    let mark = |id: &str| {
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .unwrap()["revoke_scheduled_at"]
            .clone()
    };
    assert!(mark(&old_id).is_string());
    assert!(mark(&new_id).is_null());
    let table = sandbox.run(&["keys", "list"]);
    assert!(
        table.stdout.contains("active (revoke scheduled)"),
        "{table:?}"
    );

    let scheduled = sandbox.run(&["keys", "scheduled", "--json"]).json();
    let pending = scheduled["pending"].as_array().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["key_id"], old_id.as_str());
    assert_eq!(pending[0]["replaced_by"], new_id.as_str());
    let profile = pending[0]["profile"].as_str().unwrap().to_owned();

    // Not due yet: --run-due leaves it.
    let early = sandbox
        .run(&["keys", "scheduled", "--run-due", "--json"])
        .json();
    assert_eq!(early["carried_out"].as_array().unwrap().len(), 0);
    assert_eq!(key_json(&sandbox, &old_id)["status"], "active");

    // A second rotation of the same key is refused (exit 6, conflict), nothing made.
    let total = sandbox.total();
    let again = sandbox.run(&["keys", "rotate", &old_id, "--json"]);
    assert_eq!(again.code, 6, "{again:?}");
    assert_eq!(sandbox.total(), total);

    let cancelled = sandbox.run(&["keys", "scheduled", "cancel", &old_id]);
    assert_eq!(cancelled.code, 0, "{cancelled:?}");
    assert!(cancelled.stdout.contains("keeps working"), "{cancelled:?}");
    let none = sandbox.run(&["keys", "scheduled"]);
    assert_eq!(none.stdout, "No revokes are scheduled.\n");
    let missing = sandbox.run(&["keys", "scheduled", "cancel", &old_id, "--json"]);
    assert_eq!(missing.json_error()["code"], "not_found");

    // Keyward was closed past the due time: the schedule is in the file, already due.
    ScheduledRevokes::open(&sandbox.data_dir)
        .unwrap()
        .schedule(&NewScheduledRevoke {
            profile,
            key_id: old_id.clone(),
            key_name: Some("ci".into()),
            replaced_by: Some(new_id.clone()),
            due_at: Utc::now() - Duration::minutes(1),
            reason: "rotated".into(),
        })
        .unwrap();
    let ran = sandbox
        .run(&["keys", "scheduled", "--run-due", "--json"])
        .json();
    let carried = ran["carried_out"].as_array().unwrap();
    assert_eq!(carried.len(), 1);
    assert_eq!(carried[0]["status"], "revoked");
    assert_eq!(ran["pending"].as_array().unwrap().len(), 0);
    assert_eq!(key_json(&sandbox, &old_id)["status"], "revoked");
    assert_eq!(key_json(&sandbox, &new_id)["status"], "active");
    assert!(audit_reasons(&sandbox).contains(&(
        "revoked".into(),
        old_id,
        Some(format!("rotated (replaced by {new_id})"))
    )));
}

#[test]
fn a_bad_grace_or_id_is_refused_naming_it_and_nothing_is_made() {
    let sandbox = Sandbox::new();
    let (id, _) = sandbox.create("ci", &[]);
    // Looking at pending revokes before any rotation creates no file.
    let none = sandbox
        .run(&["keys", "scheduled", "--run-due", "--json"])
        .json();
    assert_eq!(none["pending"].as_array().unwrap().len(), 0);
    let cancel = sandbox.run(&["keys", "scheduled", "cancel", &id, "--json"]);
    assert_eq!(cancel.json_error()["code"], "not_found");
    assert!(!sandbox.data_dir.join(ScheduledRevokes::FILE_NAME).exists());
    for (args, field) in [
        (
            vec!["keys", "rotate", &id, "--grace", "31d", "--json"],
            "grace",
        ),
        (
            vec!["keys", "rotate", &id, "--grace", "10m", "--json"],
            "grace",
        ),
        (vec!["keys", "rotate", "--json"], "id"),
        (vec!["keys", "rotate", " ", "--json"], "id"),
        (
            vec!["keys", "rotate", &id, "--owner", "user:u", "--json"],
            "id",
        ),
    ] {
        let run = sandbox.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_eq!(run.json_error()["field"], field, "{args:?}");
    }
    assert_eq!(sandbox.total(), 1);
    let unknown = sandbox.run(&["keys", "rotate", "key_nope", "--json"]);
    assert_eq!(unknown.json_error()["code"], "not_found");
    assert_eq!(sandbox.total(), 1);
}

#[test]
fn keys_about_to_expire_are_rotated_in_bulk_with_yes() {
    let sandbox = Sandbox::new();
    let (soon_a, _) = sandbox.create("a", &["--expires", "7d"]);
    let (soon_b, _) = sandbox.create("b", &["--expires", "10d"]);
    let (later, _) = sandbox.create("c", &["--expires", "90d"]);

    let asked = sandbox.run(&["keys", "rotate", "--expiring-within", "14", "--json"]);
    assert_eq!(asked.code, 2, "{asked:?}");
    assert_eq!(asked.json_error()["field"], "yes");
    assert_eq!(sandbox.total(), 3, "nothing rotated without --yes");

    let run = sandbox.run(&[
        "keys",
        "rotate",
        "--expiring-within",
        "14",
        "--grace",
        "7d",
        "--yes",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let rotated: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let mut old: Vec<&str> = rotated
        .iter()
        .map(|r| r["old_key_id"].as_str().unwrap())
        .collect();
    old.sort();
    let mut expected = vec![soon_a.as_str(), soon_b.as_str()];
    expected.sort();
    assert_eq!(old, expected, "one JSON line per rotated key");
    assert!(rotated
        .iter()
        .all(|r| r["secret"].as_str().unwrap().starts_with("kw_")));
    assert_eq!(sandbox.total(), 5);
    let pending = sandbox.run(&["keys", "scheduled", "--json"]).json();
    assert_eq!(pending["pending"].as_array().unwrap().len(), 2);
    assert_eq!(key_json(&sandbox, &later)["status"], "active");
}
