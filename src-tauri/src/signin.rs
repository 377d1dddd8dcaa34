//! "Sign in" for the profiles whose credential is a signed-in browser session: PropelAuth's
//! frontend API and Clerk's Frontend API (user mode). The app opens the sign-in page in a window
//! of its own and watches that window's cookies until they make a working session; what the
//! backend needs of them is then saved in the keychain. One mechanism, parameterised by a
//! [`SignInPlan`]: the page to open, the origins the window may show, and which cookies of which
//! site make the credential.
//!
//! The window shows a remote page, so it gets nothing of ours: no capability names it
//! (capabilities/main.json grants the "main" window only), so it cannot call a single command.
//! After sign-in, the browser's copy of the cookies is deleted; the keychain keeps the one copy.
//!
//! The window stays on the plan's origins: any navigation elsewhere (a link, a redirect, a
//! script setting `location`) is refused and no new window opens from it, so the session it
//! builds can only come from the server the profile names, and its title says which one. Both
//! plans allow the profile's origin only:
//! - PropelAuth's hosted login posts to its own origin (so does the emulator's,
//!   crates/keyward-emulators/src/propelauth/login.rs); the credential is every cookie it leaves,
//!   as a `Cookie` header.
//! - Clerk: the page is `{url}/sign-in` (the emulator's, crates/keyward-emulators/src/
//!   clerk_frontend.rs); the credential is the value of the HttpOnly `__client` cookie that the
//!   Frontend API leaves on its own origin (docs/backends/clerk-frontend.md). A real application
//!   whose sign-in page lives on another origin (its own domain, or Clerk's Account Portal
//!   `accounts.…`) cannot sign in here: its `__client` value is pasted into the credential field
//!   instead (docs/backends/clerk-frontend.md, "Signing in from the app").
//!
//! A social or SSO login that needs a third origin is refused likewise.

use keyward_core::{Error, ListQuery, Result};
use keyward_profiles::{BackendSettings, ClerkApiPath, Paths, Profile, PropelAuthApiKind};
use keyward_remote::HttpOptions;
use keyward_vault::Keychain;
use secrecy::SecretString;
use std::time::{Duration, Instant};
use tauri::webview::{Cookie, NewWindowResponse};
use tauri::{AppHandle, Manager, Url, WebviewUrl, WebviewWindow, WebviewWindowBuilder};
use zeroize::Zeroizing;

/// The sign-in window's label. Not "main": no capability applies to it.
pub const SIGN_IN_WINDOW: &str = "signin";

const POLL_EVERY: Duration = Duration::from_millis(400);
const TIME_LIMIT: Duration = Duration::from_secs(10 * 60);

/// Where a profile signs in and what of the resulting cookies is its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInPlan {
    /// The page the window opens.
    pub page: Url,
    /// The window may show pages of these origins only.
    pub allowed: Vec<Url>,
    /// The site whose cookies make the session.
    pub cookie_site: Url,
    pub credential: SessionCookies,
}

/// Which of the site's cookies make the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCookies {
    /// All of them, written as a `Cookie` header (PropelAuth: whatever its login sets).
    All,
    /// The value of the one cookie of this name (Clerk: `__client`, the client token).
    Value(&'static str),
}

impl SignInPlan {
    /// The plan of `profile`, or `invalid_input` on `profile` for a profile that takes its
    /// credential in the credential field.
    pub fn of(profile: &Profile) -> Result<SignInPlan> {
        let (site, path, credential) =
            match &profile.settings {
                BackendSettings::PropelAuth {
                    url,
                    api: PropelAuthApiKind::Frontend,
                    ..
                } => (url, "login", SessionCookies::All),
                BackendSettings::Clerk {
                    url,
                    api_path: ClerkApiPath::Frontend,
                    ..
                } => (url, "sign-in", SessionCookies::Value("__client")),
                _ => return Err(Error::invalid(
                    "profile",
                    "only frontend (signed-in) profiles of PropelAuth and Clerk sign in through a \
                     browser window; other profiles take their credential in the credential field",
                )),
            };
        let parse = |text: &str| {
            Url::parse(text).map_err(|e| Error::invalid("url", format!("not a URL: {e}")))
        };
        let site = parse(site)?;
        let page = parse(&format!("{}/{path}", site.as_str().trim_end_matches('/')))?;
        Ok(SignInPlan {
            page,
            allowed: vec![site.clone()],
            cookie_site: site,
            credential,
        })
    }
}

/// Opens the sign-in page of `profile` (a frontend profile of PropelAuth or Clerk), waits until
/// its cookies sign in, saves the credential they make, and closes the window.
pub async fn sign_in(
    app: &AppHandle,
    paths: &Paths,
    profile: &Profile,
    keychain: &Keychain,
) -> Result<()> {
    let plan = SignInPlan::of(profile)?;
    if let Some(open) = app.get_webview_window(SIGN_IN_WINDOW) {
        let _ = open.set_focus();
        return Err(Error::Conflict(
            "a sign-in window is already open: finish or close it first".into(),
        ));
    }
    let allowed = plan.allowed.clone();
    let origins = allowed
        .iter()
        .map(|u| u.origin().ascii_serialization())
        .collect::<Vec<_>>()
        .join(", ");
    WebviewWindowBuilder::new(app, SIGN_IN_WINDOW, WebviewUrl::External(plan.page.clone()))
        .title(sign_in_title(&plan.page))
        .on_navigation(move |url| {
            let allowed_here = navigation_allowed(&allowed, url);
            if !allowed_here {
                eprintln!(
                    "keyward: the sign-in window stays on {origins}: refused a navigation to {}",
                    url.origin().ascii_serialization()
                );
            }
            allowed_here
        })
        .on_new_window(|_, _| NewWindowResponse::Deny)
        .inner_size(480.0, 640.0)
        .center()
        .build()
        .map_err(|e| Error::Unexpected(format!("cannot open the sign-in window: {e}")))?;

    let session = wait_for_session(app, paths, profile, &plan).await;
    // Whatever happened, the browser's copy of the session goes and the window closes.
    if let Some(webview) = app
        .get_webview_window(SIGN_IN_WINDOW)
        .or_else(|| app.get_webview_window("main"))
    {
        let mut sites = plan.allowed.clone();
        if !sites.contains(&plan.cookie_site) {
            sites.push(plan.cookie_site.clone());
        }
        for site in sites {
            let _ = forget_cookies(webview.clone(), site).await;
        }
    }
    if let Some(window) = app.get_webview_window(SIGN_IN_WINDOW) {
        let _ = window.destroy();
    }
    // Stored bound to the profile's origin, as every saved credential is (keyward_profiles).
    let sealed = profile.sealed_credential(&session?)?;
    keychain.save_credential(&profile.name, &sealed).await
}

/// Whether a window limited to the origins of `allowed` may go to `url`: only to a page of one
/// of them (same scheme, host and port). Opaque origins (`about:`, `data:`, `blob:`, `file:`)
/// match nothing.
pub fn navigation_allowed(allowed: &[Url], url: &Url) -> bool {
    let origin = url.origin();
    origin.is_tuple() && allowed.iter().any(|a| a.origin() == origin)
}

/// The sign-in window's title names the origin the user is typing their password into.
pub fn sign_in_title(site: &Url) -> String {
    format!("Sign in — {}", site.origin().ascii_serialization())
}

/// Polls the window's cookies for the plan's site; each new set is tried against the backend.
/// A set is new when any cookie of the site changed, not only the credential's: a signed-out
/// client may already hold a client token that the sign-in then activates.
async fn wait_for_session(
    app: &AppHandle,
    paths: &Paths,
    profile: &Profile,
    plan: &SignInPlan,
) -> Result<SecretString> {
    let deadline = Instant::now() + TIME_LIMIT;
    let mut last_seen = Zeroizing::new(String::new());
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        let Some(window) = app.get_webview_window(SIGN_IN_WINDOW) else {
            return Err(Error::Unauthorized(
                "the sign-in window was closed before the sign-in finished".into(),
            ));
        };
        if Instant::now() > deadline {
            return Err(Error::Unauthorized(
                "sign-in did not finish within 10 minutes: try Sign in again".into(),
            ));
        }
        let cookies = cookies(window, plan.cookie_site.clone()).await?;
        let seen = cookie_header(&cookies);
        if seen.is_empty() || *seen == *last_seen {
            continue;
        }
        last_seen = seen;
        let Some(candidate) = credential_of(plan.credential, &cookies) else {
            continue;
        };
        if session_works(paths, profile, &candidate).await {
            return Ok(candidate);
        }
    }
}

/// The credential `which` makes of `cookies`, if they hold it.
fn credential_of(which: SessionCookies, cookies: &[Cookie<'_>]) -> Option<SecretString> {
    match which {
        SessionCookies::All => {
            let header = cookie_header(cookies);
            (!header.is_empty()).then(|| SecretString::from(header.as_str()))
        }
        SessionCookies::Value(name) => cookies
            .iter()
            .find(|c| c.name() == name && !c.value().is_empty())
            .map(|c| SecretString::from(c.value())),
    }
}

/// Whether the backend accepts `credential` (one list call, of one key). Clerk's adapter finds
/// the session and mints its token itself on this call.
async fn session_works(paths: &Paths, profile: &Profile, credential: &SecretString) -> bool {
    let Ok(backend) =
        profile.open_backend_with_credential(paths, credential, HttpOptions::default())
    else {
        return false;
    };
    let one = ListQuery {
        limit: 1,
        ..ListQuery::default()
    };
    backend.list(&one).await.is_ok()
}

/// The cookies the window's browser holds for `site` (HTTP-only ones included). The call waits
/// on the main thread, so it runs on a blocking thread.
async fn cookies(window: WebviewWindow, site: Url) -> Result<Vec<Cookie<'static>>> {
    tauri::async_runtime::spawn_blocking(move || window.cookies_for_url(site))
        .await
        .map_err(|e| Error::Unexpected(format!("reading the sign-in cookies failed: {e}")))?
        .map_err(|e| Error::Unexpected(format!("cannot read the sign-in window's cookies: {e}")))
}

async fn forget_cookies(webview: WebviewWindow, site: Url) -> Result<()> {
    for cookie in cookies(webview.clone(), site).await? {
        let webview = webview.clone();
        let _ = tauri::async_runtime::spawn_blocking(move || webview.delete_cookie(cookie)).await;
    }
    Ok(())
}

/// A `Cookie` request header of every cookie with a value, sorted by name so the same session
/// always reads the same.
fn cookie_header(cookies: &[Cookie<'_>]) -> Zeroizing<String> {
    let mut pairs: Vec<(&str, &str)> = cookies
        .iter()
        .filter(|c| !c.name().is_empty() && !c.value().is_empty())
        .map(|c| (c.name(), c.value()))
        .collect();
    pairs.sort();
    let mut header = Zeroizing::new(String::new());
    for (name, value) in pairs {
        if !header.is_empty() {
            header.push_str("; ");
        }
        header.push_str(name);
        header.push('=');
        header.push_str(value);
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn profile(settings: BackendSettings) -> Profile {
        Profile {
            name: "me".into(),
            settings,
        }
    }

    #[test]
    fn cookie_headers_are_sorted_and_skip_empty_values() {
        let cookies = [
            Cookie::new("zeta", "2"),
            Cookie::new("propelauth_session", "abc"),
            Cookie::new("empty", ""),
        ];
        assert_eq!(
            cookie_header(&cookies).as_str(),
            "propelauth_session=abc; zeta=2"
        );
        assert!(cookie_header(&[]).is_empty());
    }

    #[test]
    fn the_credential_is_every_cookie_or_the_named_one() {
        let cookies = [
            Cookie::new("__session", "eyJ.session.jwt"),
            Cookie::new("__client", "eyJ.client.token"),
            Cookie::new("__client_uat", "1760000000"),
        ];
        let all = credential_of(SessionCookies::All, &cookies).unwrap();
        assert_eq!(
            all.expose_secret(),
            "__client=eyJ.client.token; __client_uat=1760000000; __session=eyJ.session.jwt"
        );
        let client = credential_of(SessionCookies::Value("__client"), &cookies).unwrap();
        assert_eq!(client.expose_secret(), "eyJ.client.token");
        // Before the sign-in: no client cookie yet, or an empty one.
        let signed_out = [
            Cookie::new("__client_uat", "0"),
            Cookie::new("__client", ""),
        ];
        assert!(credential_of(SessionCookies::Value("__client"), &signed_out).is_none());
        assert!(credential_of(SessionCookies::All, &[]).is_none());
    }

    #[test]
    fn propelauth_signs_in_at_login_with_every_cookie() {
        let plan = SignInPlan::of(&profile(BackendSettings::PropelAuth {
            url: "https://auth.example.com".into(),
            api: PropelAuthApiKind::Frontend,
            auth_url: None,
            subject: None,
        }))
        .unwrap();
        let site = Url::parse("https://auth.example.com").unwrap();
        assert_eq!(plan.page.as_str(), "https://auth.example.com/login");
        assert_eq!(plan.allowed, vec![site.clone()]);
        assert_eq!(plan.cookie_site, site);
        assert_eq!(plan.credential, SessionCookies::All);
    }

    #[test]
    fn clerk_user_mode_signs_in_at_sign_in_with_the_client_cookie() {
        let plan = SignInPlan::of(&profile(BackendSettings::Clerk {
            url: "http://127.0.0.1:4321".into(),
            api_path: ClerkApiPath::Frontend,
            subject: None,
        }))
        .unwrap();
        let site = Url::parse("http://127.0.0.1:4321").unwrap();
        assert_eq!(plan.page.as_str(), "http://127.0.0.1:4321/sign-in");
        assert_eq!(plan.allowed, vec![site.clone()]);
        assert_eq!(plan.cookie_site, site);
        assert_eq!(plan.credential, SessionCookies::Value("__client"));
        assert_eq!(sign_in_title(&plan.page), "Sign in — http://127.0.0.1:4321");
    }

    #[test]
    fn profiles_with_a_pasted_credential_have_no_sign_in() {
        for settings in [
            BackendSettings::Clerk {
                url: "https://api.clerk.com".into(),
                api_path: ClerkApiPath::Root,
                subject: None,
            },
            BackendSettings::PropelAuth {
                url: "https://auth.example.com".into(),
                api: PropelAuthApiKind::Backend,
                auth_url: None,
                subject: None,
            },
            BackendSettings::Local { data_dir: None },
        ] {
            let refused = SignInPlan::of(&profile(settings)).unwrap_err();
            assert_eq!(refused.field(), Some("profile"), "{refused:?}");
        }
    }

    #[test]
    fn navigation_stays_on_the_allowed_origins() {
        let site = Url::parse("https://auth.example.com/").unwrap();
        let allowed = [site];
        let may_go = |to: &str| navigation_allowed(&allowed, &Url::parse(to).unwrap());
        assert!(may_go("https://auth.example.com/login"));
        assert!(may_go("https://auth.example.com:443/account?next=/x#top"));
        for elsewhere in [
            "http://auth.example.com/login",
            "https://auth.example.com:8443/login",
            "https://evil.example.com/login",
            "https://auth.example.com.evil.test/login",
            "about:blank",
            "data:text/html,<h1>hi</h1>",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(!may_go(elsewhere), "{elsewhere} was allowed");
        }
        assert!(!navigation_allowed(
            &[],
            &Url::parse("https://auth.example.com/").unwrap()
        ));
    }

    #[test]
    fn the_title_names_the_origin() {
        let site = Url::parse("https://auth.example.com/some/path/").unwrap();
        assert_eq!(sign_in_title(&site), "Sign in — https://auth.example.com");
        let local = Url::parse("http://127.0.0.1:4321").unwrap();
        assert_eq!(sign_in_title(&local), "Sign in — http://127.0.0.1:4321");
    }
}
