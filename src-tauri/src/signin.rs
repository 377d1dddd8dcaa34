//! PropelAuth's "Sign in": the frontend API's credential is a signed-in browser session, so the
//! app opens the project's login page in a window of its own and watches that window's cookies
//! until they make a working session; the Cookie header is then saved in the keychain.
//!
//! The window shows a remote page, so it gets nothing of ours: no capability names it
//! (capabilities/main.json grants the "main" window only), so it cannot call a single command.
//! After sign-in, the browser's copy of the cookies is deleted; the keychain keeps the one copy.
//!
//! The window stays on the profile's origin: any navigation elsewhere (a link, a redirect, a
//! script setting `location`) is refused and no new window opens from it, so the session it
//! builds can only come from the server the profile names, and its title says which one.
//! PropelAuth's hosted login posts to its own origin (so does the emulator's,
//! crates/keyward-emulators/src/propelauth/login.rs); a social or SSO login that needs a third
//! origin is refused here, and its session can be pasted into the credential field instead.

use keyward_core::{Error, ListQuery, Result};
use keyward_profiles::{BackendSettings, Paths, Profile, PropelAuthApiKind};
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

/// Opens the login page of `profile` (a PropelAuth frontend profile), waits until its cookies
/// sign in to the frontend API, saves them as the profile's credential, and closes the window.
pub async fn sign_in(
    app: &AppHandle,
    paths: &Paths,
    profile: &Profile,
    keychain: &Keychain,
) -> Result<()> {
    let site =
        match &profile.settings {
            BackendSettings::PropelAuth {
                url,
                api: PropelAuthApiKind::Frontend,
                ..
            } => url.clone(),
            _ => return Err(Error::invalid(
                "profile",
                "only PropelAuth profiles with the frontend API sign in through a browser window; \
                 other profiles take their credential in the credential field",
            )),
        };
    let parse =
        |text: &str| Url::parse(text).map_err(|e| Error::invalid("url", format!("not a URL: {e}")));
    let site = parse(&site)?;
    let login = parse(&format!("{}/login", site.as_str().trim_end_matches('/')))?;
    if let Some(open) = app.get_webview_window(SIGN_IN_WINDOW) {
        let _ = open.set_focus();
        return Err(Error::Conflict(
            "a sign-in window is already open: finish or close it first".into(),
        ));
    }
    let allowed = vec![site.clone()];
    let origin = site.origin().ascii_serialization();
    WebviewWindowBuilder::new(app, SIGN_IN_WINDOW, WebviewUrl::External(login))
        .title(sign_in_title(&site))
        .on_navigation(move |url| {
            let allowed_here = navigation_allowed(&allowed, url);
            if !allowed_here {
                eprintln!(
                    "keyward: the sign-in window stays on {origin}: refused a navigation to {}",
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

    let session = wait_for_session(app, paths, profile, &site).await;
    // Whatever happened, the browser's copy of the session goes and the window closes.
    if let Some(webview) = app
        .get_webview_window(SIGN_IN_WINDOW)
        .or_else(|| app.get_webview_window("main"))
    {
        let _ = forget_cookies(webview, site).await;
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

/// Polls the window's cookies for the site; each new set is tried against the frontend API.
async fn wait_for_session(
    app: &AppHandle,
    paths: &Paths,
    profile: &Profile,
    site: &Url,
) -> Result<SecretString> {
    let deadline = Instant::now() + TIME_LIMIT;
    let mut last_tried = Zeroizing::new(String::new());
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
        let header = cookie_header(&cookies(window, site.clone()).await?);
        if header.is_empty() || *header == *last_tried {
            continue;
        }
        let candidate = SecretString::from(header.as_str());
        last_tried = header;
        if session_works(paths, profile, &candidate).await {
            return Ok(candidate);
        }
    }
}

/// Whether the frontend API accepts `cookie` (one list call, of one key).
async fn session_works(paths: &Paths, profile: &Profile, cookie: &SecretString) -> bool {
    let Ok(backend) = profile.open_backend_with_credential(paths, cookie, HttpOptions::default())
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
