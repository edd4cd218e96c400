//! A phone for the tests: a client with its own data directory, and the helpers to log in.

use std::net::TcpListener;
use std::sync::Arc;

use sanjeevani_mobile::{
    FamilyMember, FamilyMemberInput, Language, SanjeevaniClient, Sex, SignedIn,
};
use sanjeevani_tests::TestApp;
use tempfile::TempDir;

/// One device: a data directory and a client using it.
pub struct Device {
    pub client: Arc<SanjeevaniClient>,
    pub data_dir: TempDir,
}

impl Device {
    pub fn new(base_url: &str) -> Self {
        let data_dir = tempfile::tempdir().expect("a data directory");
        let client = open(base_url, &data_dir);
        Self { client, data_dir }
    }

    /// The same phone's data with a client for another address (e.g. an unreachable one).
    pub fn reopen(&self, base_url: &str) -> Arc<SanjeevaniClient> {
        open(base_url, &self.data_dir)
    }

    /// Runs one blocking client call off the server's runtime thread.
    pub async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SanjeevaniClient) -> T + Send + 'static,
    ) -> T {
        call(&self.client, work).await
    }
}

fn open(base_url: &str, data_dir: &TempDir) -> Arc<SanjeevaniClient> {
    SanjeevaniClient::new(
        base_url.to_owned(),
        data_dir.path().to_string_lossy().into_owned(),
    )
    .expect("the client opens")
}

pub async fn call<T: Send + 'static>(
    client: &Arc<SanjeevaniClient>,
    work: impl FnOnce(&SanjeevaniClient) -> T + Send + 'static,
) -> T {
    let client = client.clone();
    tokio::task::spawn_blocking(move || work(&client))
        .await
        .expect("the client call did not panic")
}

/// A device logged in by OTP on `phone`.
pub async fn logged_in(app: &TestApp, phone: &'static str) -> (Device, SignedIn) {
    let device = Device::new(&app.address);
    device
        .call(move |client| client.request_otp_phone(phone.into()))
        .await
        .expect("the code is sent");
    let code = app.last_otp_for_phone(phone);
    let signed_in = device
        .call(move |client| client.verify_otp_phone(phone.into(), code, Some("Pixel 7".into())))
        .await
        .expect("the code is accepted");
    (device, signed_in)
}

/// An address where nothing listens: connecting is refused at once, like a phone offline.
pub fn unreachable_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

pub fn person(name: &str, sex: Sex, relation: Option<&str>) -> FamilyMemberInput {
    FamilyMemberInput {
        name: name.into(),
        sex,
        preferred_language: Language::Bengali,
        birth_date: None,
        birth_year: Some(1990),
        abha_number: None,
        relation: relation.map(Into::into),
    }
}

pub fn names(family: &[FamilyMember]) -> Vec<&str> {
    family.iter().map(|member| member.name.as_str()).collect()
}
