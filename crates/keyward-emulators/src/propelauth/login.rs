//! A minimal sign-in page standing in for PropelAuth's hosted login: `GET /login` shows a form,
//! `POST /login` checks the seeded user's email and password and sets the session cookie.
//! The page itself is the emulators' shared one (crate::signin_page).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, Response};
use axum::routing::get;
use axum::Router;

use super::{PropelAuth, USER};
use crate::signin_page::{SignInPage, Submitted};

const LOGIN_PAGE: SignInPage = SignInPage {
    product: "PropelAuth emulator",
    action: "/login",
    email_label: "Email",
    submit_label: "Sign in",
};

pub(super) fn routes() -> Router<Arc<PropelAuth>> {
    Router::new().route("/login", get(form).post(sign_in))
}

async fn form() -> Html<String> {
    LOGIN_PAGE.form()
}

async fn sign_in(State(pa): State<Arc<PropelAuth>>, body: Bytes) -> Response {
    let submitted = Submitted::from_form(&body);
    if !submitted.is(USER.email, USER.password) {
        return LOGIN_PAGE.rejected(
            StatusCode::UNAUTHORIZED,
            &submitted.email,
            "Incorrect email or password.",
        );
    }
    let cookie = format!(
        "{}; HttpOnly; SameSite=Lax; Path=/",
        pa.new_session_cookie()
    );
    LOGIN_PAGE.signed_in(
        USER.email,
        "The frontend API at <code>/api/fe/v3</code> now accepts this browser's session.",
        [cookie],
    )
}
