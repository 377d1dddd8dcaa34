//! The minimal HTML sign-in page the emulators serve where the real vendor has a hosted sign-in
//! (Clerk's `/sign-in`, PropelAuth's `/login`): a form, the failed-attempt page and the
//! signed-in page, and the cookies a successful sign-in leaves. Self-contained HTML: no scripts,
//! no external resources. What differs between vendors (paths, labels, status codes, cookie
//! names and attributes) stays with each vendor's module and comes in as a parameter.

use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::http::form_pairs;

/// One vendor's sign-in page: where the form posts and the words it shows.
pub(crate) struct SignInPage {
    /// Named in every page title and in the note under the form ("Clerk emulator").
    pub(crate) product: &'static str,
    /// Where the form posts (`/sign-in`, `/login`).
    pub(crate) action: &'static str,
    pub(crate) email_label: &'static str,
    pub(crate) submit_label: &'static str,
}

/// The email and password a sign-in form sent (empty when missing).
pub(crate) struct Submitted {
    pub(crate) email: String,
    password: String,
}

impl Submitted {
    pub(crate) fn from_form(body: &[u8]) -> Self {
        let mut fields = form_pairs(body);
        Self {
            email: fields.remove("email").unwrap_or_default(),
            password: fields.remove("password").unwrap_or_default(),
        }
    }

    /// Whether these are the seeded user's: the email ignoring case and outer spaces, the
    /// password exactly.
    pub(crate) fn is(&self, email: &str, password: &str) -> bool {
        self.email.trim().eq_ignore_ascii_case(email) && self.password == password
    }
}

impl SignInPage {
    /// `GET`: the empty form.
    pub(crate) fn form(&self) -> Html<String> {
        Html(self.form_page("", None))
    }

    /// A failed attempt: the form again, with the email kept and the vendor's message and status.
    pub(crate) fn rejected(&self, status: StatusCode, email: &str, message: &str) -> Response {
        (status, Html(self.form_page(email, Some(message)))).into_response()
    }

    /// A successful sign-in: the signed-in page, setting each cookie (`name=value; attributes`).
    /// `where_it_holds` is trusted HTML that ends the sentence saying where the session now is.
    pub(crate) fn signed_in(
        &self,
        email: &str,
        where_it_holds: &str,
        cookies: impl IntoIterator<Item = String>,
    ) -> Response {
        let mut response = Html(self.page(
            "Signed in",
            &format!(
                "<h1>Signed in</h1><p>You are signed in as <strong>{}</strong>. {where_it_holds}</p>",
                escape(email)
            ),
        ))
        .into_response();
        for cookie in cookies {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(SET_COOKIE, value);
            }
        }
        response
    }

    fn form_page(&self, email: &str, error: Option<&str>) -> String {
        let error = error
            .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
            .unwrap_or_default();
        let Self {
            product,
            action,
            email_label,
            submit_label,
        } = self;
        self.page(
            "Sign in",
            &format!(
                "<h1>Sign in</h1>{error}\
                 <form method=\"post\" action=\"{action}\">\
                 <label for=\"email\">{email_label}</label>\
                 <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{}\">\
                 <label for=\"password\">Password</label>\
                 <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
                 <button type=\"submit\">{submit_label}</button></form>\
                 <p class=\"note\">{product}: the seeded account is printed when it starts.</p>",
                escape(email)
            ),
        )
    }

    fn page(&self, title: &str, body: &str) -> String {
        let product = self.product;
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · {product}</title><style>\
             body{{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}}\
             label,input,button{{display:block;width:100%;box-sizing:border-box}}\
             input{{margin:.25rem 0 1rem;padding:.5rem}}button{{padding:.6rem}}\
             .error{{color:#b00020}}.note{{color:#666;font-size:.85rem}}\
             </style></head><body>{body}</body></html>"
        )
    }
}

/// Text made safe inside HTML element content and quoted attribute values.
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
