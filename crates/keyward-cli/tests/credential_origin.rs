//! A profile's credential is bound to the origin it was saved for (issue 12, item 1): after
//! `profiles edit --url` points the profile at another server, the CLI does not send the stored
//! credential there, says why naming both origins, and exits 3; saving the credential again for
//! the new origin makes it work. Against the real Secret Service (scripts/with-secret-service).

mod support;

use keyward_emulators::Flavor;
use support::{require_secret_service, secret_tool_search, Emu, Sandbox};

#[test]
fn a_credential_is_not_sent_to_the_server_a_profile_was_moved_to() {
    require_secret_service();
    let saved_for = Emu::start(Flavor::Clerk);
    let moved_to = Emu::start(Flavor::Clerk);
    // Both emulators accept the same secret key: only the binding keeps it from the second.
    let creds = saved_for.credentials().clerk().unwrap().clone();
    assert_eq!(
        moved_to.credentials().clerk().unwrap().secret_key,
        creds.secret_key
    );
    let (old_origin, new_origin) = (saved_for.url(), moved_to.url());
    assert_ne!(old_origin, new_origin);

    let sandbox = Sandbox::new();
    let profile = "kc-origin";
    let subject = format!("user:{}", creds.user_id);
    let added = sandbox.run(&[
        "profiles",
        "add",
        profile,
        "--backend",
        "clerk",
        "--url",
        &old_origin,
        "--subject",
        &subject,
    ]);
    assert_eq!(added.code, 0, "{added:?}");
    assert_eq!(sandbox.run(&["profiles", "use", profile]).code, 0);
    let saved = sandbox.run_with_stdin(&["profiles", "set-credential", profile], &creds.secret_key);
    assert_eq!(saved.code, 0, "{saved:?}");
    // Saved bound: the keychain entry carries the backend and origin it is for, with the secret.
    let found = secret_tool_search("keyward-credential", profile);
    assert!(
        found.contains(&format!(
            "secret = keyward-credential-v1\nclerk\n{old_origin}\n\n{}",
            creds.secret_key
        )),
        "{found}"
    );

    // The config file edited by hand (no Keyward edit path runs): the credential is refused where
    // it is read for use.
    let config = std::fs::read_to_string(&sandbox.config).unwrap();
    assert!(config.contains(&old_origin), "{config}");
    sandbox.write_config(&config.replace(&old_origin, &new_origin));
    moved_to.reset_stats();
    let refused = sandbox.run(&["keys", "list"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(
        refused.stderr.contains(&format!(
            "the credential of profile '{profile}' was saved for {old_origin}; the profile now \
             points at {new_origin}, so it was not sent. Save the credential again: keyward \
             profiles set-credential {profile}"
        )),
        "{refused:?}"
    );
    assert!(
        !refused.stderr.contains(&creds.secret_key) && !refused.stdout.contains(&creds.secret_key)
    );
    let json = sandbox.run(&["keys", "list", "--json"]);
    assert_eq!(json.code, 3, "{json:?}");
    assert_eq!(json.json_error()["code"], "unauthorized");
    assert_eq!(
        moved_to.request_count(),
        0,
        "the new server got requests: {:?}",
        moved_to.stats()
    );
    // `profiles list` shows it as missing: there is no credential for the profile as it is now.
    let profiles = sandbox.run(&["profiles", "list", "--json"]).json();
    let shown = profiles["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == profile)
        .unwrap()["credential"]
        .clone();
    assert_eq!(shown, serde_json::json!({"source": "missing"}));

    // Saved again, for the new origin: it works there.
    let saved = sandbox.run_with_stdin(&["profiles", "set-credential", profile], &creds.secret_key);
    assert_eq!(saved.code, 0, "{saved:?}");
    let listed = sandbox.run(&["keys", "list", "--json"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(moved_to.request_count() > 0);
    let found = secret_tool_search("keyward-credential", profile);
    assert!(
        found.contains(&format!("keyward-credential-v1\nclerk\n{new_origin}\n")),
        "{found}"
    );

    // `profiles edit` back to the first server: the credential bound to the second is deleted at
    // once, and the edit says so, naming both origins.
    let edited = sandbox.run(&["profiles", "edit", profile, "--url", &old_origin]);
    assert_eq!(edited.code, 0, "{edited:?}");
    for said in [
        format!("Profile '{profile}' now points at {old_origin}"),
        new_origin.clone(),
        "its saved credential was deleted from the keychain and was not sent".to_owned(),
    ] {
        assert!(edited.stdout.contains(&said), "{said} not in {edited:?}");
    }
    assert!(!secret_tool_search("keyward-credential", profile).contains("keyward-credential-v1"));
    saved_for.reset_stats();
    let refused = sandbox.run(&["keys", "list", "--json"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert_eq!(saved_for.request_count(), 0, "{:?}", saved_for.stats());
    // The JSON answer of an edit carries the same report.
    let saved = sandbox.run_with_stdin(&["profiles", "set-credential", profile], &creds.secret_key);
    assert_eq!(saved.code, 0, "{saved:?}");
    let edited = sandbox.run(&["profiles", "edit", profile, "--url", &new_origin, "--json"]);
    assert_eq!(edited.code, 0, "{edited:?}");
    let dropped = edited.json()["credential_dropped"].clone();
    assert_eq!(dropped["deleted"], true, "{dropped}");
    assert!(
        dropped["saved_for"].as_str().unwrap().contains(&old_origin),
        "{dropped}"
    );
    assert!(
        dropped["now"].as_str().unwrap().contains(&new_origin),
        "{dropped}"
    );
}
