//! A minimal sign-in page standing in for PropelAuth's hosted login: `GET /login` shows a form,
//! `POST /login` checks the seeded user's email and password and sets the session cookie.
//! Self-contained HTML: no scripts, no external resources.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{PropelAuth, USER};
use crate::http::form_pairs;

pub(super) fn routes() -> Router<Arc<PropelAuth>> {
    Router::new().route("/login", get(form).post(sign_in))
}

async fn form() -> Html<String> {
    Html(login_page("", None))
}

async fn sign_in(State(pa): State<Arc<PropelAuth>>, body: Bytes) -> Response {
    let fields = form_pairs(&body);
    let email = fields.get("email").map(String::as_str).unwrap_or_default();
    let password = fields
        .get("password")
        .map(String::as_str)
        .unwrap_or_default();
    if !(email.trim().eq_ignore_ascii_case(USER.email) && password == USER.password) {
        let page = login_page(email, Some("Incorrect email or password."));
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    let cookie = format!(
        "{}; HttpOnly; SameSite=Lax; Path=/",
        pa.new_session_cookie()
    );
    let page = page(
        "Signed in",
        &format!(
            "<h1>Signed in</h1><p>You are signed in as <strong>{}</strong>. \
             The frontend API at <code>/api/fe/v3</code> now accepts this browser's session.</p>",
            escape(USER.email)
        ),
    );
    ([(SET_COOKIE, cookie)], Html(page)).into_response()
}

fn login_page(email: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "<h1>Sign in</h1>{error}\
             <form method=\"post\" action=\"/login\">\
             <label for=\"email\">Email</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{}\">\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Sign in</button></form>\
             <p class=\"note\">PropelAuth emulator: the seeded account is printed when it starts.</p>",
            escape(email)
        ),
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · PropelAuth emulator</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}}\
         label,input,button{{display:block;width:100%;box-sizing:border-box}}\
         input{{margin:.25rem 0 1rem;padding:.5rem}}button{{padding:.6rem}}\
         .error{{color:#b00020}}.note{{color:#666;font-size:.85rem}}\
         </style></head><body>{body}</body></html>"
    )
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
