//! `keyward profiles …`: list, add, edit, remove and choose profiles, and keep their credentials
//! in the OS keychain.

use super::{block_on, http_options};
use crate::cli::{NameArg, ProfileArgs, ProfileEditArgs, ProfileSettings, ProfilesCommand};
use crate::output::{self, Exit};
use keyward_core::{Error, Result};
use keyward_ops::AskOnce;
use keyward_profiles::{
    add_profile, credential_env_var, edit_profile, remove_profile, set_default_profile,
    BackendSettings, ClerkApiPath, Config, CredentialSource, FreeSewingAuthKind, Paths, Profile,
    ProfileSpec, ProfileSummary, PropelAuthApiKind,
};
use keyward_vault::Keychain;
use serde::Serialize;

pub fn run(command: ProfilesCommand, paths: &Paths, json: bool) -> Result<Exit> {
    match command {
        ProfilesCommand::List => list(paths, json),
        ProfilesCommand::Add(args) => add(paths, args, json),
        ProfilesCommand::Edit(args) => edit(paths, args, json),
        ProfilesCommand::Remove(NameArg { name }) => remove(paths, &name, json),
        ProfilesCommand::Use(NameArg { name }) => use_profile(paths, &name, json),
        ProfilesCommand::SetCredential(NameArg { name }) => set_credential(paths, &name, json),
        ProfilesCommand::ForgetCredential(NameArg { name }) => {
            forget_credential(paths, &name, json)
        }
    }
}

#[derive(Serialize)]
struct ProfileJson<'a> {
    #[serde(flatten)]
    summary: &'a ProfileSummary,
    /// Where the credential comes from (`keyward_profiles::CredentialSource`, as the app shows
    /// it): `{"source": "not_needed" | "environment" | "stored" | "missing"}`; `null` when the
    /// keychain could not be asked.
    credential: Option<CredentialSource>,
}

#[derive(Serialize)]
struct ProfilesJson<'a> {
    profiles: Vec<ProfileJson<'a>>,
    /// Why the keychain could not be asked about credentials.
    credential_error: Option<keyward_core::ErrorBody>,
}

/// The word the CREDENTIAL column shows.
fn source_word(source: Option<&CredentialSource>) -> &'static str {
    match source {
        None => "unknown",
        Some(CredentialSource::NotNeeded) => "-",
        Some(CredentialSource::Environment { .. }) => "env",
        Some(CredentialSource::Stored) => "keychain",
        Some(CredentialSource::Missing) => "missing",
    }
}

fn list(paths: &Paths, json: bool) -> Result<Exit> {
    let config = Config::load(paths)?;
    let summaries = config.summaries(paths);
    let keychain = Keychain::new();
    // Once the keychain fails, it is not asked again: each call could take its full time limit.
    let once = AskOnce::new(&keychain);
    let sources: Vec<Option<CredentialSource>> = config
        .profiles
        .values()
        .map(|profile| {
            profile.credential_source(&once).ok().or_else(|| {
                // The keychain could not be asked, but a set variable wins over it anyway.
                let variable = credential_env_var(&profile.name);
                std::env::var_os(&variable)
                    .is_some_and(|v| !v.is_empty())
                    .then_some(CredentialSource::Environment {
                        variable,
                        stored: false,
                    })
            })
        })
        .collect();
    let keychain_error = once.failure();
    if json {
        output::print_json(&ProfilesJson {
            profiles: summaries
                .iter()
                .zip(&sources)
                .map(|(summary, credential)| ProfileJson {
                    summary,
                    credential: credential.clone(),
                })
                .collect(),
            credential_error: keychain_error.as_ref().map(Error::to_body),
        })?;
    } else {
        let rows: Vec<Vec<String>> = summaries
            .iter()
            .zip(&sources)
            .map(|(p, source)| {
                let how = [p.mode.map(str::to_owned), p.subject.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                vec![
                    if p.default { "*" } else { "" }.to_owned(),
                    output::clean(&p.name),
                    p.backend.to_owned(),
                    output::clean(&p.location),
                    if how.is_empty() {
                        "-".to_owned()
                    } else {
                        output::clean(&how)
                    },
                    source_word(source.as_ref()).to_owned(),
                ]
            })
            .collect();
        output::print(&output::table(
            &[
                "DEFAULT",
                "NAME",
                "BACKEND",
                "LOCATION",
                "MODE/SUBJECT",
                "CREDENTIAL",
            ],
            &rows,
        ))?;
        if let Some(error) = keychain_error {
            output::note(&format!(
                "note: the keychain could not be asked about credentials: {}",
                output::clean(&error.to_string())
            ));
        }
    }
    Ok(Exit::Ok)
}

/// `{"profile": ProfileSummary}`, or a line for people, after an add or an edit.
fn report_profile(
    config: &Config,
    paths: &Paths,
    name: &str,
    verb: &str,
    json: bool,
) -> Result<()> {
    let profile = config.profile(Some(name))?;
    let summary = profile.summary(paths, config.default_profile == name);
    if json {
        return output::print_json(&serde_json::json!({ "profile": summary }));
    }
    let mut text = format!(
        "{verb} profile {} ({} at {})\n",
        output::clean(name),
        summary.backend,
        output::clean(&summary.location)
    );
    if profile.needs_credential() {
        text.push_str(&format!(
            "Its credential comes from the keychain (keyward profiles set-credential {name}) or {}.\n",
            credential_env_var(name)
        ));
    }
    output::print(&text)
}

fn add(paths: &Paths, args: ProfileArgs, json: bool) -> Result<Exit> {
    let spec = overlay(
        ProfileSpec {
            name: args.name.clone(),
            backend: args.backend,
            ..ProfileSpec::default()
        },
        args.settings,
    );
    let config = add_profile(paths, &spec, false).map_err(|e| as_flag_error(e, &args.name))?;
    report_profile(&config, paths, &args.name, "Added", json)?;
    Ok(Exit::Ok)
}

/// Replaces the settings given on the command line and keeps the others, unless the backend
/// changes: then the profile starts afresh from the flags.
fn edit(paths: &Paths, args: ProfileEditArgs, json: bool) -> Result<Exit> {
    let config = Config::load(paths)?;
    // Without a config file this is the built-in `local` profile: editing writes the file.
    let current = spec_of(config.profile(Some(&args.name))?);
    let base = match &args.backend {
        Some(backend) if !backend.trim().eq_ignore_ascii_case(&current.backend) => ProfileSpec {
            name: args.name.clone(),
            backend: backend.clone(),
            ..ProfileSpec::default()
        },
        _ => current,
    };
    let spec = overlay(base, args.settings);
    // A new origin or backend drops the stored credential (it was bound to the old one).
    let edited =
        edit_profile(paths, &spec, &Keychain::new()).map_err(|e| as_flag_error(e, &args.name))?;
    if json {
        let profile = edited.config.profile(Some(&args.name))?;
        let summary = profile.summary(paths, edited.config.default_profile == args.name);
        output::print_json(&serde_json::json!({
            "profile": summary,
            "credential_dropped": edited.credential_dropped,
        }))?;
        return Ok(Exit::Ok);
    }
    report_profile(&edited.config, paths, &args.name, "Changed", false)?;
    if let Some(dropped) = &edited.credential_dropped {
        output::print(&format!("{}\n", output::clean(&dropped.message)))?;
    }
    Ok(Exit::Ok)
}

/// The config parser names what is wrong as the file would have it (`config file …, line 9,
/// field profiles.acme.url: …`); for `profiles add` and `edit` the flag is what the user typed, so
/// the error names it (`url`, `api-path`) and keeps just the reason.
fn as_flag_error(error: Error, name: &str) -> Error {
    let Error::InvalidInput { field, message } = error else {
        return error;
    };
    match field.strip_prefix(&format!("profiles.{name}.")) {
        Some(key) => {
            let reason = message
                .split_once(&format!("field {field}: "))
                .map_or(message.as_str(), |(_, reason)| reason);
            Error::invalid(key.replace('_', "-"), reason)
        }
        None => Error::InvalidInput { field, message },
    }
}

/// The flags given, over `spec`. An empty value stays empty, which `add_profile` drops: that is
/// how `--subject ''` removes a setting.
fn overlay(mut spec: ProfileSpec, flags: ProfileSettings) -> ProfileSpec {
    let ProfileSettings {
        url,
        subject,
        api,
        auth,
        api_path,
        auth_url,
        data_dir,
    } = flags;
    for (slot, value) in [
        (&mut spec.url, url),
        (&mut spec.subject, subject),
        (&mut spec.api, api),
        (&mut spec.auth, auth),
        (&mut spec.api_path, api_path),
        (&mut spec.auth_url, auth_url),
    ] {
        if value.is_some() {
            *slot = value;
        }
    }
    if let Some(dir) = data_dir {
        spec.data_dir = (!dir.as_os_str().is_empty()).then_some(dir);
    }
    spec
}

/// A profile as the flags that would make it; defaults are left out, so an edit does not write
/// them into the file.
fn spec_of(profile: &Profile) -> ProfileSpec {
    let mut spec = ProfileSpec {
        name: profile.name.clone(),
        backend: profile.kind().as_str().to_owned(),
        ..ProfileSpec::default()
    };
    match &profile.settings {
        BackendSettings::Local { data_dir } => spec.data_dir = data_dir.clone(),
        BackendSettings::PropelAuth {
            url,
            api,
            auth_url,
            subject,
        } => {
            spec.url = Some(url.clone());
            spec.api = (*api == PropelAuthApiKind::Frontend).then(|| "frontend".to_owned());
            spec.auth_url = auth_url.clone();
            spec.subject = subject.as_ref().map(ToString::to_string);
        }
        BackendSettings::Clerk {
            url,
            api_path,
            subject,
        } => {
            spec.url = Some(url.clone());
            spec.api_path = (*api_path == ClerkApiPath::V1).then(|| "/v1/api_keys".to_owned());
            // User mode is not the default, so an edit must keep it.
            spec.api = (*api_path == ClerkApiPath::Frontend).then(|| "frontend".to_owned());
            spec.subject = subject.as_ref().map(ToString::to_string);
        }
        BackendSettings::FreeSewing { url, auth } => {
            spec.url = Some(url.clone());
            spec.auth = (*auth == FreeSewingAuthKind::Jwt).then(|| "jwt".to_owned());
        }
    }
    spec
}

fn remove(paths: &Paths, name: &str, json: bool) -> Result<Exit> {
    let needs_credential = Config::load(paths)?.profile(Some(name))?.needs_credential();
    remove_profile(paths, name)?;
    // Best effort: the profile is gone either way, and a leftover credential is said so.
    let forgot = needs_credential.then(|| Keychain::new().forget_credential_blocking(name));
    if json {
        output::print_json(&serde_json::json!({
            "removed": name,
            "credential_forgotten": forgot.as_ref().and_then(|f| f.as_ref().ok().copied()),
            "credential_error": forgot.as_ref().and_then(|f| f.as_ref().err().map(Error::to_body)),
        }))?;
    } else {
        let mut text = format!("Removed profile {}\n", output::clean(name));
        match &forgot {
            None => {}
            Some(Ok(true)) => text.push_str("Its credential was deleted from the keychain.\n"),
            Some(Ok(false)) => text.push_str("No credential of it was saved in the keychain.\n"),
            Some(Err(error)) => text.push_str(&format!(
                "Its credential could not be deleted from the keychain and may remain there: {}\n",
                output::clean(&error.to_string())
            )),
        }
        output::print(&text)?;
    }
    Ok(Exit::Ok)
}

fn use_profile(paths: &Paths, name: &str, json: bool) -> Result<Exit> {
    set_default_profile(paths, name)?;
    if json {
        output::print_json(&serde_json::json!({ "default_profile": name }))?;
    } else {
        output::print(&format!("Default profile: {}\n", output::clean(name)))?;
    }
    Ok(Exit::Ok)
}

/// Reads the credential, then `keyward_ops::profiles::save_credential`: refused without saving
/// if it does not fit the profile, else saved and checked by listing one page. It stays saved
/// whatever the check says; a failed check sets the exit status.
fn set_credential(paths: &Paths, name: &str, json: bool) -> Result<Exit> {
    let config = Config::load(paths)?;
    let profile = config.profile(Some(name))?.clone();
    if !profile.needs_credential() {
        // Refused before reading anything (the operation says the same).
        return Err(no_credential(&profile));
    }
    let credential = super::verify::read_first_line(
        "credential",
        &format!("Credential for profile {name} (input hidden): "),
        &format!(
            "standard input is empty; pipe the credential in, e.g. printf '%s\\n' \"$TOKEN\" | keyward profiles set-credential {name}"
        ),
    )?;
    let http = http_options()?;
    let keychain = Keychain::new();
    let saved = block_on(keyward_ops::profiles::save_credential(
        &profile,
        paths,
        &credential,
        http,
        &keychain,
    ))?;
    drop(credential);
    let host = host_of(&profile, paths);
    let check = match saved.check_error {
        None => Ok(()),
        Some(error) => Err(error),
    };
    let overridden = std::env::var_os(credential_env_var(name))
        .is_some_and(|v| !v.is_empty())
        .then(|| credential_env_var(name));
    if json {
        output::print_json(&serde_json::json!({
            "profile": name,
            "saved": true,
            "accepted": check.is_ok(),
            "error": check.as_ref().err().map(Error::to_body),
            "overridden_by": overridden,
        }))?;
    } else {
        let mut text = match &check {
            Ok(()) => format!("credential saved and accepted by {host}\n"),
            Err(error @ Error::InvalidInput { .. }) => format!(
                "credential saved, but it could not be checked: {}\n",
                output::clean(&error.to_string())
            ),
            Err(error) => format!(
                "credential saved, but {host} did not accept it: {}\n(it stays saved; set it again, or remove it with `keyward profiles forget-credential {name}`)\n",
                output::clean(&error.to_string())
            ),
        };
        if let Some(var) = overridden {
            text.push_str(&format!(
                "note: {var} is set in this environment and is used instead of the saved credential\n"
            ));
        }
        output::print(&text)?;
    }
    Ok(match check {
        Ok(()) => Exit::Ok,
        Err(error) => Exit::Failed(error.code()),
    })
}

/// Scheme, host and port of a remote profile, for messages (never a path or query).
fn host_of(profile: &Profile, paths: &Paths) -> String {
    let location = profile.location(paths);
    match location.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            output::clean(&format!("{scheme}://{host}"))
        }
        None => output::clean(&location),
    }
}

/// The local store has no credential to keep.
fn no_credential(profile: &Profile) -> Error {
    Error::invalid(
        "profile",
        format!(
            "'{}' is a {} profile, which needs no credential",
            profile.name,
            profile.kind().as_str()
        ),
    )
}

fn forget_credential(paths: &Paths, name: &str, json: bool) -> Result<Exit> {
    let config = Config::load(paths)?;
    // A removed profile's leftover credential can still be forgotten.
    if let Ok(profile) = config.profile(Some(name)) {
        if !profile.needs_credential() {
            return Err(no_credential(profile));
        }
    }
    let existed = Keychain::new().forget_credential_blocking(name)?;
    if json {
        output::print_json(&serde_json::json!({ "profile": name, "forgotten": existed }))?;
    } else if existed {
        output::print(&format!(
            "Deleted the credential of profile {} from the keychain\n",
            output::clean(name)
        ))?;
    } else {
        output::print(&format!(
            "No credential of profile {} was saved in the keychain\n",
            output::clean(name)
        ))?;
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::Subject;

    #[test]
    fn config_errors_name_the_flag() {
        let error = as_flag_error(
            Error::invalid(
                "profiles.acme.api_path",
                "config file /c.toml, line 9, field profiles.acme.api_path: 'x' is not one of: /api_keys, /v1/api_keys",
            ),
            "acme",
        );
        assert_eq!(error.field(), Some("api-path"));
        assert_eq!(
            error.message(),
            "'x' is not one of: /api_keys, /v1/api_keys"
        );
        let other = Error::invalid("name", "bad");
        assert_eq!(as_flag_error(other.clone(), "acme"), other);
    }

    #[test]
    fn a_profile_turns_back_into_the_flags_that_make_it() {
        let clerk = Profile {
            name: "acme".into(),
            settings: BackendSettings::Clerk {
                url: "https://api.clerk.com".into(),
                api_path: ClerkApiPath::Root,
                subject: Some(Subject::User("user_1".into())),
            },
        };
        let spec = spec_of(&clerk);
        assert_eq!(spec.backend, "clerk");
        assert_eq!(spec.url.as_deref(), Some("https://api.clerk.com"));
        assert_eq!(spec.subject.as_deref(), Some("user:user_1"));
        assert_eq!(spec.api_path, None, "defaults are not written");

        let edited = overlay(
            spec,
            ProfileSettings {
                url: None,
                subject: Some(String::new()),
                api: None,
                auth: None,
                api_path: Some("/v1/api_keys".into()),
                auth_url: None,
                data_dir: None,
            },
        );
        assert_eq!(edited.url.as_deref(), Some("https://api.clerk.com"));
        assert_eq!(edited.subject.as_deref(), Some(""));
        assert_eq!(edited.api_path.as_deref(), Some("/v1/api_keys"));
    }
}
