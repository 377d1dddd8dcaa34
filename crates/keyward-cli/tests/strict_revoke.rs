//! `keys revoke <filters> --yes --expect N`: the count the user saw must still hold when the
//! revoke runs, else nothing is revoked (exit 6, `conflict`).

mod support;

use support::Sandbox;

fn active(sandbox: &Sandbox) -> u64 {
    sandbox
        .run(&["keys", "list", "--status", "active", "--json"])
        .json()["total"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_filter_that_matches_another_count_than_expected_revokes_nothing() {
    let sandbox = Sandbox::new();
    for name in ["ci-a", "ci-b", "laptop"] {
        sandbox.create(name, &["--expires", "1m"]);
    }
    let counted = sandbox.run(&["keys", "revoke", "--search", "ci", "--json"]);
    assert_eq!(
        counted.code, 2,
        "without --yes a filter only counts: {counted:?}"
    );
    // A third key starts matching after the user looked.
    sandbox.create("ci-c", &["--expires", "1m"]);

    let run = sandbox.run(&[
        "keys", "revoke", "--search", "ci", "--yes", "--expect", "2", "--json",
    ]);
    assert_eq!(run.code, 6, "conflict: {run:?}");
    let error = run.json_error();
    assert_eq!(error["code"], "conflict");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("nothing was revoked"),
        "{error}"
    );
    assert_eq!(active(&sandbox), 4, "nothing was revoked");
    let audit = sandbox.run(&["audit", "--json"]).json();
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "revoked"),
        "nothing recorded as revoked: {audit}"
    );

    let bad = sandbox.run(&[
        "keys", "revoke", "--search", "ci", "--yes", "--expect", "two", "--json",
    ]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.json_error()["field"], "expect");

    let body = sandbox
        .run(&[
            "keys", "revoke", "--search", "ci", "--yes", "--expect", "3", "--json",
        ])
        .json();
    assert_eq!(body["revoked"], 3);
    assert_eq!(active(&sandbox), 1);
}

#[test]
fn a_reason_holding_a_secret_is_refused_before_any_key_is_revoked() {
    let sandbox = Sandbox::new();
    let (id, secret) = sandbox.create("ci-a", &[]);
    sandbox.create("ci-b", &[]);
    let reason = format!("rotated: {secret}");
    let run = sandbox.run(&[
        "keys", "revoke", "--search", "ci", "--yes", "--reason", &reason, "--json",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.json_error()["field"], "reason");
    assert!(!run.stderr.contains(&secret));
    let by_id = sandbox.run(&["keys", "revoke", &id, "--reason", &reason, "--json"]);
    assert_eq!(by_id.code, 2, "{by_id:?}");
    assert_eq!(active(&sandbox), 2, "nothing was revoked");
    let audit = sandbox.run(&["audit", "export", "--format", "json"]);
    assert!(
        !audit.stdout.contains(&secret),
        "the secret never reached the activity log"
    );
}
