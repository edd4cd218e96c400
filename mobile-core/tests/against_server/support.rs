//! A phone for the tests: a client with its own data directory, and the helpers to log in.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use sanjeevani_mobile::{
    BookedToken, FamilyMember, FamilyMemberInput, Language, MobileError, SanjeevaniClient, Sex,
    SignedIn, WatchTiming,
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
        abha_address: None,
        relation: relation.map(Into::into),
    }
}

pub fn names(family: &[FamilyMember]) -> Vec<&str> {
    family.iter().map(|member| member.name.as_str()).collect()
}

/// The demo's round-the-clock OPD (`AC`, Siliguri hub, dr.ghosh).
pub const ROUND_THE_CLOCK: &str = "00000000-0000-7000-8000-000000002003";
pub const DEMO_PASSWORD: &str = "sanjeevani-demo-2026";

pub const FAST: WatchTiming = WatchTiming {
    interval: Duration::from_millis(50),
    max_backoff: Duration::from_millis(200),
    with_stream: Duration::from_millis(200),
};

/// A patient device with the holder's own profile; returns the device and the patient id.
pub async fn patient(app: &TestApp, phone: &'static str, name: &'static str) -> (Device, String) {
    let (device, _) = logged_in(app, phone).await;
    let holder = device
        .call(move |c| c.add_family_member(person(name, Sex::Female, None)))
        .await
        .expect("the profile is added");
    (device, holder.id)
}

/// Today's session of the round-the-clock OPD, as `list_opds` shows it.
pub async fn round_the_clock_session(device: &Device) -> String {
    let opds = device.call(|c| c.list_opds()).await.expect("OPDs listed");
    let opd = opds
        .into_iter()
        .find(|opd| opd.id == ROUND_THE_CLOCK)
        .expect("the AC OPD is bookable");
    assert_eq!(opd.code, "AC");
    assert!(opd.always_open);
    let session = opd.sessions.into_iter().next().expect("a bookable session");
    assert!(session.tokens_left > 0);
    session.id
}

pub async fn book(
    device: &Device,
    session: &str,
    patient_id: &str,
) -> Result<BookedToken, MobileError> {
    let (session, patient_id) = (session.to_owned(), patient_id.to_owned());
    device
        .call(move |c| c.book_token(session, patient_id, None))
        .await
}

pub async fn doctor(app: &TestApp) -> Device {
    doctor_at(&app.address).await
}

/// dr.ghosh, online for the round-the-clock OPD, on a phone reaching the server at `address`.
pub async fn doctor_at(address: &str) -> Device {
    let doctor = Device::new(address);
    let signed_in = doctor
        .call(|c| c.login_staff("dr.ghosh".into(), DEMO_PASSWORD.into(), None))
        .await
        .expect("dr.ghosh logs in");
    assert_eq!(signed_in.user.role, sanjeevani_mobile::Role::Doctor);
    let presence = doctor
        .call(|c| c.set_online(ROUND_THE_CLOCK.into(), true))
        .await
        .expect("online");
    assert!(presence.online && presence.heartbeat_due_by.is_some());
    doctor.call(|c| c.heartbeat()).await.expect("heartbeat");
    doctor
}

/// A relay in front of the server that passes every request on but loses the answer of the
/// first one whose request line contains `path_part`: the server did the work, the phone never
/// heard (its network dropped, or the server restarted, just after the commit).
pub struct LosesOneAnswer {
    pub address: String,
    /// Requests matching `path_part` that reached the server.
    pub matching: Arc<std::sync::atomic::AtomicUsize>,
}

impl LosesOneAnswer {
    pub async fn to(upstream: &str, path_part: &'static str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let matching = Arc::new(AtomicUsize::new(0));
        let seen = matching.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let (upstream, seen) = (upstream.clone(), seen.clone());
                tokio::spawn(async move {
                    // One request per connection: the answer carries `connection: close`.
                    let Some((head, body)) = read_request(&mut inbound).await else {
                        return;
                    };
                    let request_line = head.lines().next().unwrap_or_default().to_owned();
                    let mut forwarded: String = head
                        .lines()
                        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
                        .map(|line| format!("{line}\r\n"))
                        .collect();
                    forwarded.push_str("connection: close\r\n\r\n");
                    let mut outbound = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                    outbound.write_all(forwarded.as_bytes()).await.unwrap();
                    outbound.write_all(&body).await.unwrap();
                    let mut answer = Vec::new();
                    outbound.read_to_end(&mut answer).await.unwrap();
                    let lose = request_line.contains(path_part)
                        && seen.fetch_add(1, Ordering::SeqCst) == 0;
                    if !lose {
                        let _ = inbound.write_all(&answer).await;
                    }
                    // Lost: the connection closes with no answer at all.
                });
            }
        });
        Self { address, matching }
    }
}

/// Reads one HTTP request: its head (without the blank line) and its body.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    // A body-less POST may still be sent chunked: its closing `0\r\n\r\n` can arrive in a
    // later packet than the head, and forwarding the head alone would leave the server waiting.
    let chunked = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
        })
    });
    while chunked && !body.ends_with(b"0\r\n\r\n") {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    while body.len() < length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some((head, body))
}
