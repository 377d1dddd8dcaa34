//! The keychain through the CLI, against the real Secret Service (gnome-keyring in the private
//! D-Bus session of scripts/with-secret-service), checked from outside with `secret-tool`:
//! saving a new key's secret, reading it back, forgetting it on revoke, profile credentials, and
//! a keychain that is not there.

mod support;

use keyward_emulators::Flavor;
use serde_json::Value;
use support::{require_secret_service, secret_tool_search, Emu, Sandbox};

const UNAVAILABLE: (&str, &str) = ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");

/// A local profile with a name of its own, so tests running at once never share accounts.
fn local_sandbox(profile: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write_config(&format!(
        "default_profile = \"{profile}\"\n[profiles.{profile}]\nbackend = \"local\"\n"
    ));
    sandbox
}

fn list_item(sandbox: &Sandbox, id: &str) -> Value {
    sandbox.run(&["keys", "list", "--json"]).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .cloned()
        .expect("the key is listed")
}

#[test]
fn a_saved_secret_can_be_printed_and_is_forgotten_on_revoke() {
    require_secret_service();
    let sandbox = local_sandbox("kc-save");
    let created = sandbox
        .run(&[
            "keys",
            "create",
            "--name",
            "saved",
            "--save-to-keychain",
            "--json",
        ])
        .json();
    assert_eq!(created["saved_in_keychain"], true);
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let account = format!("kc-save/{id}");

    // Seen from outside: service `keyward`, account `<profile>/<key id>`.
    let found = secret_tool_search("keyward", &account);
    assert!(found.contains(&format!("secret = {secret}")), "{found}");
    assert!(
        found.contains(&format!("attribute.username = {account}")),
        "{found}"
    );

    // Marked in listings (metadata only; no secret there).
    assert_eq!(list_item(&sandbox, &id)["saved_in_keychain"], true);
    let human = sandbox.run(&["keys", "list"]);
    let row = human.stdout.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(row.ends_with("  saved"), "{human:?}");
    assert!(!human.stdout.contains(&secret));
    let get = sandbox.run(&["keys", "get", &id]);
    assert!(get.stdout.contains("Keychain     saved\n"), "{get:?}");
    assert_eq!(
        sandbox.run(&["keys", "get", &id, "--json"]).json()["saved_in_keychain"],
        true
    );

    // Printing needs the confirmation flag.
    let refused = sandbox.run(&["keys", "secret", &id, "--json"]);
    assert_eq!(refused.code, 2);
    assert_eq!(refused.json_error()["field"], "print-secret");
    let printed = sandbox.run(&["keys", "secret", &id, "--print-secret"]);
    assert_eq!(
        (printed.code, printed.stdout.clone()),
        (0, format!("{secret}\n")),
        "{printed:?}"
    );
    let json = sandbox
        .run(&["keys", "secret", &id, "--print-secret", "--json"])
        .json();
    assert_eq!(json, serde_json::json!({"id": id, "secret": secret}));
    assert_eq!(
        sandbox
            .run_with_stdin(&["keys", "verify"], &format!("{secret}\n"))
            .code,
        0
    );

    // Revoke --forget deletes the entry, and says so per key.
    let (other, _) = sandbox.create("not-saved", &[]);
    let revoked = sandbox.run(&["keys", "revoke", &id, &other, "--forget"]);
    assert_eq!(revoked.code, 0, "{revoked:?}");
    assert!(revoked.stdout.contains(&format!(
        "revoked: {id} (saved); saved secret deleted from the keychain\n"
    )));
    assert!(revoked.stdout.contains(&format!(
        "revoked: {other} (not-saved); no saved secret in the keychain\n"
    )));
    let found = secret_tool_search("keyward", &account);
    assert!(
        !found.contains(&secret) && !found.contains(&account),
        "{found}"
    );
    assert_eq!(list_item(&sandbox, &id)["saved_in_keychain"], false);

    let missing = sandbox.run(&["keys", "secret", &id, "--print-secret"]);
    assert_eq!(missing.code, 5, "{missing:?}");
    assert!(
        missing.stderr.contains("no saved secret for key")
            && missing.stderr.contains("only keys saved at creation"),
        "{missing:?}"
    );
    let json = sandbox
        .run(&["keys", "revoke", &id, "--forget", "--json"])
        .json();
    assert_eq!(json["outcomes"][0]["forgotten"], false);
}

#[test]
fn a_profile_credential_round_trip_through_the_keychain() {
    require_secret_service();
    let emu = Emu::start(Flavor::Clerk);
    let creds = emu.credentials().clerk().unwrap().clone();
    let sandbox = Sandbox::new();
    let profile = "kc-clerk";
    let url = emu.url();
    let subject = format!("user:{}", creds.user_id);
    let added = sandbox.run(&[
        "profiles",
        "add",
        profile,
        "--backend",
        "clerk",
        "--url",
        &url,
        "--subject",
        &subject,
    ]);
    assert_eq!(added.code, 0, "{added:?}");
    assert_eq!(sandbox.run(&["profiles", "use", profile]).code, 0);
    let credential_of = || {
        sandbox.run(&["profiles", "list", "--json"]).json()["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == profile)
            .unwrap()["credential"]
            .clone()
    };
    // The one vocabulary of both front ends (keyward_profiles::CredentialSource).
    assert_eq!(credential_of(), serde_json::json!({"source": "missing"}));
    let none = sandbox.run(&["keys", "list"]);
    assert_eq!(none.code, 3, "{none:?}");
    assert!(
        none.stderr
            .contains("keyward profiles set-credential kc-clerk"),
        "{none:?}"
    );

    // A wrong credential is saved, and the check says it was not accepted.
    let wrong = "sk_test_notTheRightOne";
    let run = sandbox.run_with_stdin(
        &["profiles", "set-credential", profile],
        &format!("{wrong}\n"),
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout
            .starts_with(&format!("credential saved, but {url} did not accept it")),
        "{run:?}"
    );
    assert!(!run.stdout.contains(wrong) && !run.stderr.contains(wrong));
    // Saved bound to the profile's backend and origin (keyward_profiles' envelope), as the app
    // saves it too (keyward_ops::profiles::save_credential).
    let found = secret_tool_search("keyward-credential", profile);
    assert!(
        found.contains("secret = keyward-credential-v1") && found.contains(&url),
        "{found}"
    );
    assert!(found.contains(wrong), "{found}");

    // The right one replaces it and is accepted.
    let run = sandbox.run_with_stdin(&["profiles", "set-credential", profile], &creds.secret_key);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!("credential saved and accepted by {url}\n")
    );
    let found = secret_tool_search("keyward-credential", profile);
    assert!(found.contains(&creds.secret_key), "{found}");
    assert!(!found.contains(wrong), "{found}");
    assert_eq!(credential_of(), serde_json::json!({"source": "stored"}));
    let human = sandbox.run(&["profiles", "list"]);
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.contains(profile) && l.ends_with("keychain")),
        "{human:?}"
    );

    // The CLI against Clerk with the credential from the keychain: create, list, verify, revoke.
    let (id, secret) = sandbox.create("from-keychain", &["--scope", "read"]);
    let listed = sandbox.run(&["keys", "list", "--json"]).json();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(sandbox.run_with_stdin(&["keys", "verify"], &secret).code, 0);
    let revoked = sandbox.run(&["keys", "revoke", &id]);
    assert_eq!(revoked.stdout, format!("revoked: {id} (from-keychain)\n"));
    assert_eq!(
        sandbox.run_with_stdin(&["keys", "verify"], &secret).code,
        10
    );
    // The environment wins over the keychain.
    let env = format!("KEYWARD_CREDENTIAL_{}", "KC_CLERK");
    let overridden = sandbox.run_env(&["keys", "list", "--json"], &[(&env, wrong)]);
    assert_eq!(overridden.code, 3, "{overridden:?}");

    // Nothing of it in the config file.
    let config = std::fs::read_to_string(&sandbox.config).unwrap();
    assert!(
        !config.contains(&creds.secret_key) && !config.contains(wrong),
        "{config}"
    );

    // forget-credential, then removing the profile (nothing left to forget).
    let forgot = sandbox.run(&["profiles", "forget-credential", profile]);
    assert_eq!(
        forgot.stdout,
        format!("Deleted the credential of profile {profile} from the keychain\n")
    );
    // The one vocabulary of both front ends (keyward_profiles::CredentialSource).
    assert_eq!(credential_of(), serde_json::json!({"source": "missing"}));
    assert!(!secret_tool_search("keyward-credential", profile).contains("secret ="));
    let again = sandbox
        .run(&["profiles", "forget-credential", profile, "--json"])
        .json();
    assert_eq!(again["forgotten"], false);
    let run = sandbox.run_with_stdin(&["profiles", "set-credential", profile], &creds.secret_key);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(sandbox.run(&["profiles", "use", "local"]).code, 0);
    let removed = sandbox
        .run(&["profiles", "remove", profile, "--json"])
        .json();
    assert_eq!(removed["credential_forgotten"], true);
    assert!(!secret_tool_search("keyward-credential", profile).contains("secret ="));
}

#[test]
fn without_a_keychain_commands_that_need_one_exit_nine_and_the_rest_work() {
    require_secret_service();
    let sandbox = local_sandbox("kc-none");
    // Saved while the keychain works, so that `--forget` below has a secret to delete.
    let (id, _) = sandbox.create("existing", &["--save-to-keychain"]);
    let before = sandbox.total();

    let save = sandbox.run_env(
        &[
            "keys",
            "create",
            "--name",
            "never-made",
            "--save-to-keychain",
            "--json",
        ],
        &[UNAVAILABLE],
    );
    assert_eq!(save.code, 9, "{save:?}");
    let error = save.json_error();
    assert_eq!(error["code"], "keychain_unavailable");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Secret Service"),
        "{error}"
    );
    assert_eq!(
        sandbox.total(),
        before,
        "no key is made whose secret cannot be saved"
    );

    let print = sandbox.run_env(&["keys", "secret", &id, "--print-secret"], &[UNAVAILABLE]);
    assert_eq!(print.code, 9, "{print:?}");
    assert!(
        print
            .stderr
            .starts_with("error: No Secret Service is running"),
        "{print:?}"
    );

    // Listing needs no keychain, and neither does creating without saving.
    let list = sandbox.run_env(&["keys", "list", "--json"], &[UNAVAILABLE]);
    assert_eq!(
        list.json()["items"][0]["saved_in_keychain"],
        true,
        "the mark comes from the saved-secret index, not the keychain"
    );
    assert_eq!(sandbox.run_env(&["keys", "list"], &[UNAVAILABLE]).code, 0);
    let created = sandbox.run_env(
        &["keys", "create", "--name", "plain", "--json"],
        &[UNAVAILABLE],
    );
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(
        sandbox.run_env(&["profiles", "list"], &[UNAVAILABLE]).code,
        0
    );

    // Revoke --forget: the revoke happens; the forget is reported as failed, exit 9.
    let revoke = sandbox.run_env(&["keys", "revoke", &id, "--forget"], &[UNAVAILABLE]);
    assert_eq!(revoke.code, 9, "{revoke:?}");
    assert!(
        revoke.stdout.starts_with(&format!(
            "revoked: {id} (existing); saved secret NOT deleted: No Secret Service"
        )),
        "{revoke:?}"
    );
    assert_eq!(
        sandbox.run(&["keys", "get", &id, "--json"]).json()["status"],
        "revoked"
    );
}
