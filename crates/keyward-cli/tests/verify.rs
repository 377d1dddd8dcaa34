//! `keys verify` reads the secret from standard input, never from the command line.

mod support;

use support::Sandbox;

#[test]
fn a_valid_secret_exits_zero() {
    let sandbox = Sandbox::new();
    let (id, secret) = sandbox.create("laptop", &[]);

    let run = sandbox.run_with_stdin(&["keys", "verify"], &format!("{secret}\n"));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, format!("valid: laptop ({id})\n"));
    assert!(run.stderr.is_empty(), "{run:?}");

    // Only the first line counts, surrounding blanks are trimmed, and no newline is needed.
    let run = sandbox.run_with_stdin(
        &["keys", "verify", "--json"],
        &format!("  {secret}  \nignored\n"),
    );
    let body = run.json();
    assert_eq!(body["result"], "valid");
    assert_eq!(body["key"]["id"], id.as_str());
    assert!(!run.stdout.contains(&secret));
    assert_eq!(sandbox.run_with_stdin(&["keys", "verify"], &secret).code, 0);
}

#[test]
fn a_revoked_secret_exits_ten() {
    let sandbox = Sandbox::new();
    let (id, secret) = sandbox.create("old", &[]);
    assert_eq!(sandbox.run(&["keys", "revoke", &id]).code, 0);

    let run = sandbox.run_with_stdin(&["keys", "verify"], &secret);
    assert_eq!(run.code, 10, "{run:?}");
    assert_eq!(
        run.stdout,
        format!("not valid: key old ({id}) is revoked\n")
    );

    let run = sandbox.run_with_stdin(&["keys", "verify", "--json"], &secret);
    assert_eq!(run.code, 10, "{run:?}");
    let body: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(body["result"], "revoked");
    assert_eq!(body["key"]["id"], id.as_str());
}

#[test]
fn an_unknown_secret_exits_ten() {
    let sandbox = Sandbox::new();
    let (_, secret) = sandbox.create("mine", &[]);
    let elsewhere = Sandbox::new();

    let run = elsewhere.run_with_stdin(&["keys", "verify"], &secret);
    assert_eq!(run.code, 10, "{run:?}");
    assert_eq!(run.stdout, "not valid: no key matches this secret\n");

    let run = elsewhere.run_with_stdin(&["keys", "verify", "--json"], &secret);
    assert_eq!(run.code, 10, "{run:?}");
    let body: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(body, serde_json::json!({"result": "unknown"}));
}

#[test]
fn the_secret_cannot_be_passed_as_an_argument() {
    let sandbox = Sandbox::new();
    let (_, secret) = sandbox.create("mine", &[]);
    for args in [
        vec!["keys", "verify", secret.as_str()],
        vec!["keys", "verify", "--secret", secret.as_str()],
    ] {
        let run = sandbox.run(&args);
        assert_eq!(run.code, 2, "usage error: {run:?}");
        assert!(run.stdout.is_empty());
        assert!(run.stderr.contains("unexpected argument"), "{run:?}");
    }
}

#[test]
fn empty_input_is_refused_naming_the_field() {
    let sandbox = Sandbox::new();
    for stdin in [
        None,
        Some(""),
        Some("\n"),
        Some("   \nkw_on_the_second_line\n"),
    ] {
        let run = match stdin {
            None => sandbox.run(&["keys", "verify"]),
            Some(text) => sandbox.run_with_stdin(&["keys", "verify"], text),
        };
        assert_eq!(run.code, 2, "{stdin:?}: {run:?}");
        assert!(
            run.stderr
                .starts_with("error: secret: standard input is empty"),
            "{run:?}"
        );
    }
    let run = sandbox.run_with_stdin(&["keys", "verify", "--json"], "");
    let error = run.json_error();
    assert_eq!(error["code"], "invalid_input");
    assert_eq!(error["field"], "secret");
    assert!(!sandbox.data_dir.exists(), "nothing was opened or created");
}
