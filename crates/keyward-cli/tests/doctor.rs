//! `keyward doctor`: one line per check, a problem names what is wrong and what to do, the exit
//! status is the first problem's; and the packaging helpers (`--version` with the commit, the
//! generated completions and man page).
//!
//! The keychain check depends on the machine (scripts/test runs these inside a private Secret
//! Service; a bare `cargo test` has none), so these tests assert its line is there, and assert
//! the exit status only where a check before it decides it.

mod support;

use keyward_emulators::Flavor;
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use support::{closed_port_url, Emu, Run, Sandbox};

/// Check name -> (status, the whole check), from `doctor --json`.
fn checks(run: &Run) -> BTreeMap<String, (String, Value)> {
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --json is not JSON ({e}): {run:?}"));
    assert_eq!(report["ok"], run.code == 0, "{run:?}");
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|check| {
            (
                check["check"].as_str().unwrap().to_owned(),
                (check["status"].as_str().unwrap().to_owned(), check.clone()),
            )
        })
        .collect()
}

/// Without a display (an empty value counts as unset), so the result never depends on the
/// desktop the tests run in.
const NO_DISPLAY: [(&str, &str); 2] = [("DISPLAY", ""), ("WAYLAND_DISPLAY", "")];

fn doctor(sandbox: &Sandbox, extra_env: &[(&str, &str)]) -> Run {
    let mut env = NO_DISPLAY.to_vec();
    env.extend_from_slice(extra_env);
    sandbox.run_env(&["doctor", "--json", "--timeout", "3"], &env)
}

#[test]
fn a_fresh_machine_reports_every_check_and_creates_nothing() {
    let sandbox = Sandbox::new();
    let run = doctor(&sandbox, &[]);
    let checks = checks(&run);
    let names: Vec<&str> = checks.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "config",
            "data_dir",
            "display",
            "profile:local",
            "secret_service"
        ],
        "{run:?}"
    );
    assert_eq!(checks["config"].0, "ok");
    assert_eq!(checks["data_dir"].0, "ok");
    assert_eq!(checks["profile:local"].0, "ok");
    // No display: a warning with what it means, never a failure by itself.
    let (status, display) = &checks["display"];
    assert_eq!(status, "warning");
    assert!(
        display["fix"].as_str().unwrap().contains("--copy"),
        "{display}"
    );
    // The keychain check ran either way, and a problem says what to do and exits 9.
    let (status, keychain) = &checks["secret_service"];
    match status.as_str() {
        "ok" => assert_eq!(run.code, 0, "{run:?}"),
        "problem" => {
            assert_eq!(keychain["code"], "keychain_unavailable", "{keychain}");
            assert!(keychain["fix"].as_str().unwrap().contains("unlock"));
            assert_eq!(run.code, 9, "{run:?}");
        }
        other => panic!("secret_service is {other}: {run:?}"),
    }
    // Nothing was created: the data dir and the config file are still missing.
    assert!(!sandbox.data_dir.exists());
    assert!(!sandbox.config.exists());
}

#[test]
fn a_config_file_that_does_not_parse_is_named_with_its_line_and_field_and_exits_2() {
    let sandbox = Sandbox::new();
    sandbox.write_config("default_profile = \"local\"\nclipboard_clear_seconds = \"soon\"\n");
    let run = doctor(&sandbox, &[]);
    let checks = checks(&run);
    let (status, config) = &checks["config"];
    assert_eq!(status, "problem", "{run:?}");
    assert_eq!(config["code"], "invalid_input");
    let detail = config["detail"].as_str().unwrap();
    assert!(detail.contains("config.toml"), "{detail}");
    assert!(detail.contains("line 2"), "{detail}");
    assert!(detail.contains("clipboard_clear_seconds"), "{detail}");
    // The other checks still ran; no profile can be checked without a config.
    assert!(checks.contains_key("data_dir") && checks.contains_key("secret_service"));
    assert!(!checks.keys().any(|name| name.starts_with("profile:")));
    // config comes first, so its status is the command's.
    assert_eq!(run.code, 2, "{run:?}");

    // The human report: one line per check, the fix under it, a summary last.
    let human = sandbox.run_env(&["doctor", "--timeout", "3"], &NO_DISPLAY);
    assert_eq!(human.code, 2, "{human:?}");
    assert!(human.stdout.starts_with("problem  config "), "{human:?}");
    assert!(human.stdout.contains("-> fix that line of"), "{human:?}");
    assert!(human
        .stdout
        .lines()
        .any(|l| l.starts_with("warning  display ")));
    assert!(
        human.stdout.trim_end().ends_with("warning(s)."),
        "{human:?}"
    );
}

#[test]
fn a_data_dir_other_users_can_read_is_a_problem_saying_which_chmod() {
    let sandbox = Sandbox::new();
    let created = sandbox.run(&["keys", "create", "--name", "one", "--json"]);
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(checks(&doctor(&sandbox, &[]))["data_dir"].0, "ok");

    let store = sandbox.data_dir.join("keyward.db");
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = doctor(&sandbox, &[]);
    let (status, check) = &checks(&run)["data_dir"];
    assert_eq!(status, "problem", "{run:?}");
    assert_eq!(check["code"], "permission_denied");
    assert!(
        check["detail"].as_str().unwrap().contains("keyward.db"),
        "{check}"
    );
    assert!(
        check["fix"].as_str().unwrap().starts_with("chmod 600"),
        "{check}"
    );
    // data_dir comes before the keychain: 4, permission denied.
    assert_eq!(run.code, 4, "{run:?}");

    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&sandbox.data_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = doctor(&sandbox, &[]);
    let (status, check) = &checks(&run)["data_dir"];
    assert_eq!(status, "problem", "{run:?}");
    assert!(
        check["detail"].as_str().unwrap().contains("mode 755"),
        "{check}"
    );
    assert!(
        check["fix"].as_str().unwrap().starts_with("chmod 700"),
        "{check}"
    );
    // The local store itself was listed: the key is there.
    assert_eq!(checks(&run)["profile:local"].0, "ok");
}

#[test]
fn each_profile_backend_is_reached_once_and_a_failure_says_what_to_do() {
    let emu = Emu::start(Flavor::Clerk);
    let clerk = emu.credentials().clerk().unwrap().clone();
    let sandbox = Sandbox::new();
    let subject = format!("user:{}", clerk.user_id);
    let add = |name: &str, url: &str| {
        let added = sandbox.run(&[
            "profiles",
            "add",
            name,
            "--backend",
            "clerk",
            "--url",
            url,
            "--subject",
            &subject,
        ]);
        assert_eq!(added.code, 0, "{added:?}");
    };
    add("good", &emu.url());
    add("wrong-key", &emu.url());
    add("down", &closed_port_url());
    let env = [
        ("KEYWARD_CREDENTIAL_GOOD", clerk.secret_key.as_str()),
        ("KEYWARD_CREDENTIAL_WRONG_KEY", "sk_test_wrongWrongWrong"),
        ("KEYWARD_CREDENTIAL_DOWN", clerk.secret_key.as_str()),
    ];
    let run = doctor(&sandbox, &env);
    assert!(
        !run.stdout.contains(&clerk.secret_key),
        "a credential in the report"
    );
    assert!(
        !run.stdout.contains("wrongWrong"),
        "a credential in the report"
    );
    let checks = checks(&run);

    let (status, good) = &checks["profile:good"];
    assert_eq!(status, "ok", "{good}");

    let (status, wrong) = &checks["profile:wrong-key"];
    assert_eq!(status, "problem", "{wrong}");
    assert_eq!(wrong["code"], "unauthorized");
    assert_eq!(
        wrong["fix"],
        "save a valid credential: keyward profiles set-credential wrong-key"
    );

    let (status, down) = &checks["profile:down"];
    assert_eq!(status, "problem", "{down}");
    assert_eq!(down["code"], "network");
    assert!(
        down["fix"].as_str().unwrap().contains("check the URL"),
        "{down}"
    );

    // The first problem decides the status: the keychain's (9) if there is none here, else the
    // first profile's in name order, `down` (network, 8).
    let expected = if checks["secret_service"].0 == "ok" {
        8
    } else {
        9
    };
    assert_eq!(run.code, expected, "{run:?}");
}

#[test]
fn a_bad_timeout_is_refused_naming_the_field() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["doctor", "--timeout", "0", "--json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.json_error()["field"], "timeout");
}

#[test]
fn version_names_the_commit_and_the_generated_completions_and_man_page_cover_the_commands() {
    let sandbox = Sandbox::new();
    let version = sandbox.run(&["--version"]);
    assert_eq!(version.code, 0);
    let expected = format!("keyward {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(version.stdout.starts_with(&expected), "{version:?}");
    assert!(version.stdout.trim_end().ends_with(')'), "{version:?}");

    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef keyward"),
        ("fish", "complete -c keyward"),
    ] {
        let run = sandbox.run(&["generate", "completions", shell]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains(marker), "{shell}: no {marker}");
        for command in ["keys", "profiles", "doctor", "revoke", "expires"] {
            assert!(
                run.stdout.contains(command),
                "{shell} completions miss {command}"
            );
        }
    }
    let man = sandbox.run(&["generate", "man"]);
    assert_eq!(man.code, 0, "{man:?}");
    assert!(man.stdout.contains(".TH keyward 1"), "{man:?}");
    assert!(man.stdout.contains("doctor"), "the man page misses doctor");
    // Hidden from --help: it is for packagers.
    assert!(!sandbox.run(&["--help"]).stdout.contains("generate"));
}
