//! The web pages as a browser sees them, without a browser: the page session's cookie, `Origin`
//! on form posts, redirects not followed (the test reads where they go).

use reqwest::redirect::Policy;
use reqwest::StatusCode;

use crate::TestApp;

/// A browser's view of the pages for one session.
pub struct Pages<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub cookie: String,
}

/// A page's answer: status, where it sends the browser, its headers and the HTML.
pub struct Page {
    pub status: StatusCode,
    pub location: String,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl<'a> Pages<'a> {
    /// Pages signed in as a staff member of the demo world.
    pub async fn signed_in(app: &'a TestApp, username: &str) -> Pages<'a> {
        let token = app.staff_token(username).await;
        Self::with_session(app, &token)
    }

    /// Pages with this session (a page session is the API's session token in a cookie).
    pub fn with_session(app: &'a TestApp, token: &str) -> Pages<'a> {
        Pages {
            app,
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("a client"),
            cookie: format!("sanjeevani_session={token}"),
        }
    }

    async fn answer(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .map(|v| v.to_str().expect("a location").to_owned())
            .unwrap_or_default();
        Page {
            status,
            location,
            headers,
            html: response.text().await.expect("a body"),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    /// A GET with extra headers (`If-None-Match`, ...).
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self
            .client
            .get(format!("{}{path}", self.app.address))
            .header("cookie", &self.cookie);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::answer(request.send().await.expect("the server answers")).await
    }

    /// A form post from this site's own page.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(path, form, &self.app.address).await
    }

    /// A form post sent from a page at `origin`.
    pub async fn post_from(&self, path: &str, form: &[(&str, &str)], origin: &str) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.app.address))
            .header("cookie", &self.cookie)
            .header("origin", origin)
            .form(form)
            .send()
            .await
            .expect("the server answers");
        Self::answer(response).await
    }
}
