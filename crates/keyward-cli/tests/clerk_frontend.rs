//! The CLI in Clerk user mode (issue 15): a `--api frontend` profile on the Clerk emulator, its
//! credential a session got by signing in to the emulator's sign-in page over HTTP and given in
//! `KEYWARD_CREDENTIAL_<PROFILE>`; personal and org keys, search, revoke with a reason, and a
//! session token that expires between commands and is refreshed without an error.

mod support;

use keyward_emulators::Flavor;
use serde_json::Value;
use std::io::{Read, Write};
use std::time::Duration;
use support::{Emu, Sandbox};

const ENV: &str = "KEYWARD_CREDENTIAL_ME";

/// Signs the seeded user in with a plain HTTP/1.1 form post and returns the `__client` cookie.
fn sign_in(emu: &Emu) -> String {
    let details = emu
        .clerk_sign_in()
        .expect("the Clerk emulator signs users in");
    let address = details
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/sign-in")
        .to_owned();
    let form = format!(
        "email={}&password={}",
        details.email.replace('@', "%40"),
        details.password.replace(' ', "+")
    );
    let mut stream = std::net::TcpStream::connect(&address).expect("the emulator listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /sign-in HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer
        .lines()
        .filter_map(|line| line.strip_prefix("set-cookie: __client="))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .next()
        .unwrap_or_else(|| panic!("no __client cookie in {answer}"))
}

#[test]
fn clerk_user_mode_from_sign_in_to_revoke_across_a_token_refresh() {
    let emu = Emu::start(Flavor::Clerk);
    emu.set_clerk_token_lifetime(Duration::from_secs(2));
    let details = emu.clerk_sign_in().unwrap();
    let sandbox = Sandbox::new();
    let url = emu.url();
    let added = sandbox.run(&[
        "profiles",
        "add",
        "me",
        "--backend",
        "clerk",
        "--api",
        "frontend",
        "--url",
        &url,
    ]);
    assert_eq!(added.code, 0, "{added:?}");
    assert_eq!(sandbox.run(&["profiles", "use", "me"]).code, 0);

    // An instance key is refused, named, and never sent.
    let secret_key = emu.credentials().clerk().unwrap().secret_key.clone();
    let before = emu.request_count();
    let refused = sandbox.run_env(&["keys", "list", "--json"], &[(ENV, &secret_key)]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("instance secret key (sk_…)"),
        "{refused:?}"
    );
    assert!(!refused.stderr.contains(&secret_key));
    assert_eq!(emu.request_count(), before);

    let session = sign_in(&emu);
    let env = [(ENV, session.as_str())];
    let run = |args: &[&str]| sandbox.run_env(args, &env);
    let create = |args: &[&str]| -> (Value, String) {
        let created = run(args).json();
        (
            created["key"].clone(),
            created["secret"]
                .as_str()
                .expect("the secret, once")
                .to_owned(),
        )
    };

    let (personal, secret) = create(&[
        "keys",
        "create",
        "--name",
        "laptop deploy",
        "--description",
        "my laptop",
        "--expires",
        "30d",
        "--json",
    ]);
    assert_eq!(personal["owner"]["id"], details.user_id.as_str());
    let org = format!("org:{}", details.org_id);
    let (org_key, _) = create(&[
        "keys",
        "create",
        "--name",
        "org deploy",
        "--owner",
        &org,
        "--json",
    ]);
    assert_eq!(org_key["owner"]["id"], details.org_id.as_str());

    // Past the token's lifetime: the next commands refresh it without a word.
    std::thread::sleep(Duration::from_millis(2200));
    let found = run(&["keys", "list", "--search", "laptop", "--json"]).json();
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], personal["id"]);
    assert!(!found.to_string().contains(&secret));
    let org_list = run(&["keys", "list", "--owner", &org, "--json"]).json();
    assert_eq!(org_list["items"][0]["id"], org_key["id"]);
    let owners = run(&["keys", "owners", "--json"]);
    assert_eq!(owners.code, 0, "{owners:?}");
    assert!(owners.stdout.contains(&details.org_id) && owners.stdout.contains(&details.user_id));

    std::thread::sleep(Duration::from_millis(2200));
    let id = personal["id"].as_str().unwrap();
    let revoked = run(&["keys", "revoke", id, "--reason", "laptop lost"]);
    assert_eq!(revoked.code, 0, "{revoked:?}");
    let key = run(&["keys", "get", id, "--json"]).json();
    assert_eq!(key["status"], "revoked");
    assert_eq!(key["revocation_reason"], "laptop lost");
    // Each command started cold; several minted a token, none met an error.
    let minted = emu
        .stats()
        .get("POST /v1/client/sessions/{session_id}/tokens")
        .copied()
        .unwrap_or(0);
    assert!(minted >= 3, "{minted}");

    // An edit keeps the profile in user mode.
    let user = format!("user:{}", details.user_id);
    let edited = sandbox.run(&["profiles", "edit", "me", "--subject", &user]);
    assert_eq!(edited.code, 0, "{edited:?}");
    let config = std::fs::read_to_string(&sandbox.config).unwrap();
    assert!(config.contains("api = \"frontend\""), "{config}");
    assert_eq!(run(&["keys", "list", "--json"]).code, 0);

    // A session Clerk does not know (signed out, or never signed in): sign in again.
    let stale = sandbox.run_env(
        &["keys", "list", "--json"],
        &[(ENV, "client_signedout0001")],
    );
    assert_eq!(stale.code, 3, "{stale:?}");
    assert!(stale.stderr.contains("sign in again"), "{stale:?}");
}
