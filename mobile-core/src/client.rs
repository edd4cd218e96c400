//! [`SanjeevaniClient`], the one object the apps hold, and [`Core`], the plain-Rust logic behind
//! it. Each exported method is a single line that calls `Core` and turns its internal
//! [`Error`] into the public [`MobileError`]; Rust code and tests can use `Core` directly and
//! keep every cause.
//!
//! Calls are blocking: apps call them from a background thread (Kotlin `Dispatchers.IO`, a
//! Swift `Task.detached`, a Python thread). There is no async runtime inside.

use std::path::Path;
use std::sync::Arc;

use sanjeevani_types::auth::{
    Me, OtpRequest, OtpRequested, OtpVerify, PasswordLogin, SessionIssued,
};
use sanjeevani_types::domain::{EmailAddress, OtpCode, PhoneNumber};
use sanjeevani_types::opd::OpdListing;
use sanjeevani_types::patient::{Patient, PatientInput};
use sanjeevani_types::queue::{
    BookToken, Presence, PresenceUpdate, QueueEntry, QueueStatus, Token,
};
use sanjeevani_types::walk_in;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{Api, ApiRequest, RetryPolicy};
use crate::error::{Error, MobileError};
use crate::queue::{QueueListener, QueueWatch, WatchTiming};
use crate::records::{
    BookedToken, DoctorPresence, FamilyMember, FamilyMemberInput, Opd, OtpSent, PriorityReason,
    QueueUpdate, SignedIn, User, WaitingPatient, WalkInOffer,
};
use crate::secrets::{SecretStore, TokenVault};
use crate::store::{PendingBooking, Store, StoredSession};

/// Who is logging in: a parsed phone number or email address.
enum LoginIdentifier {
    Phone(PhoneNumber),
    Email(EmailAddress),
}

impl LoginIdentifier {
    fn phone(input: &str) -> Result<Self, Error> {
        PhoneNumber::parse(input)
            .map(Self::Phone)
            .map_err(|problem| Error::invalid("phone", problem))
    }

    fn email(input: &str) -> Result<Self, Error> {
        EmailAddress::parse(input)
            .map(Self::Email)
            .map_err(|problem| Error::invalid("email", problem))
    }

    /// The `(phone, email)` pair the API's bodies carry: exactly one is set.
    fn into_fields(self) -> (Option<String>, Option<String>) {
        match self {
            Self::Phone(phone) => (Some(phone.to_string()), None),
            Self::Email(email) => (None, Some(email.to_string())),
        }
    }
}

/// The client's logic, with the internal error type.
#[derive(Debug)]
pub struct Core {
    api: Api,
    store: Store,
}

impl Core {
    /// A client for the server at `base_url` keeping its data in `data_dir`.
    pub fn open(base_url: &str, data_dir: &Path) -> Result<Self, Error> {
        Self::open_with_retry(base_url, data_dir, RetryPolicy::DEFAULT)
    }

    pub fn open_with_retry(
        base_url: &str,
        data_dir: &Path,
        retry: RetryPolicy,
    ) -> Result<Self, Error> {
        Self::open_with(base_url, data_dir, retry, TokenVault::File)
    }

    /// A client keeping the session token in `vault` ([`crate::secrets`]).
    pub fn open_with(
        base_url: &str,
        data_dir: &Path,
        retry: RetryPolicy,
        vault: TokenVault,
    ) -> Result<Self, Error> {
        Ok(Self {
            api: Api::new(base_url, retry)?,
            store: Store::open_with_vault(data_dir, vault)?,
        })
    }

    fn request_otp(&self, identifier: LoginIdentifier) -> Result<OtpSent, Error> {
        let (phone, email) = identifier.into_fields();
        let answer = self
            .api
            .send(ApiRequest::post("/auth/otp/request").json(&OtpRequest { phone, email }))?;
        Ok(answer.json::<OtpRequested>()?.into())
    }

    pub fn request_otp_phone(&self, phone: &str) -> Result<OtpSent, Error> {
        self.request_otp(LoginIdentifier::phone(phone)?)
    }

    pub fn request_otp_email(&self, email: &str) -> Result<OtpSent, Error> {
        self.request_otp(LoginIdentifier::email(email)?)
    }

    fn verify_otp(
        &self,
        identifier: LoginIdentifier,
        code: &str,
        device_name: Option<String>,
    ) -> Result<SignedIn, Error> {
        let code = OtpCode::parse(code).map_err(|problem| Error::invalid("code", problem))?;
        let (phone, email) = identifier.into_fields();
        let body = OtpVerify {
            phone,
            email,
            code: code.as_ref().to_owned(),
            device_name,
        };
        let issued: SessionIssued = self
            .api
            .send(ApiRequest::post("/auth/otp/verify").json(&body))?
            .json()?;
        self.store.save_session(&issued)?;
        Ok(issued.into())
    }

    pub fn verify_otp_phone(
        &self,
        phone: &str,
        code: &str,
        device_name: Option<String>,
    ) -> Result<SignedIn, Error> {
        self.verify_otp(LoginIdentifier::phone(phone)?, code, device_name)
    }

    pub fn verify_otp_email(
        &self,
        email: &str,
        code: &str,
        device_name: Option<String>,
    ) -> Result<SignedIn, Error> {
        self.verify_otp(LoginIdentifier::email(email)?, code, device_name)
    }

    /// Whether a session is stored. The expiry is not checked here: phone clocks are often
    /// wrong, and the server is the judge (its 401 forgets the session).
    pub fn is_logged_in(&self) -> Result<bool, Error> {
        Ok(self.store.session()?.is_some())
    }

    /// Who is signed in on this phone, as last heard from the server, without the network
    /// (and without reading the token).
    pub fn cached_user(&self) -> Result<Option<User>, Error> {
        Ok(self.store.signed_in_user()?.map(|(me, _)| me.into()))
    }

    /// Runs a call that needs the session. If the server refuses the token, the session is
    /// forgotten here, once for every endpoint.
    pub(crate) fn with_session<T>(
        &self,
        call: impl FnOnce(&StoredSession) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let session = self.store.session()?.ok_or(Error::NotLoggedIn)?;
        let result = call(&session);
        if let Err(error) = &result {
            if error.is_session_rejected() {
                crate::logging::log(crate::logging::LogLevel::Info, "session", || {
                    "the server no longer accepts this phone's session: signed out here".into()
                });
                self.store.forget_session_with_token(&session.token)?;
            }
        }
        result
    }

    pub fn current_user(&self) -> Result<User, Error> {
        let me: Me = self.with_session(|session| {
            self.api
                .send(ApiRequest::get("/auth/me").bearer(&session.token))?
                .json()
        })?;
        self.store.update_user(&me)?;
        Ok(me.into())
    }

    /// Ends the session on the server, then forgets it and the account's offline data here
    /// whatever the server said: a user who taps "log out" while offline is logged out on
    /// this phone (the server session then simply expires).
    pub fn logout(&self) -> Result<(), Error> {
        if let Some(session) = self.store.session()? {
            // The answer does not change what happens next, so it is not inspected.
            let _ = self
                .api
                .send(ApiRequest::post("/auth/logout").bearer(&session.token));
        }
        self.store.forget_account()
    }

    /// The family from the server; the offline copy is refreshed with it.
    pub fn family(&self) -> Result<Vec<FamilyMember>, Error> {
        let (account_id, family) = self.with_session(|session| {
            let family: Vec<Patient> = self
                .api
                .send(ApiRequest::get("/patients").bearer(&session.token))?
                .json()?;
            Ok((session.user.id.clone(), family))
        })?;
        self.store.replace_family(&account_id, &family)?;
        Ok(family.into_iter().map(FamilyMember::from).collect())
    }

    /// The family as last fetched, without the network.
    pub fn cached_family(&self) -> Result<Vec<FamilyMember>, Error> {
        Ok(self
            .store
            .family()?
            .into_iter()
            .map(FamilyMember::from)
            .collect())
    }

    pub fn add_family_member(&self, input: FamilyMemberInput) -> Result<FamilyMember, Error> {
        let body = PatientInput::try_from(input)?;
        self.save_patient(ApiRequest::post("/patients"), &body)
    }

    pub fn update_family_member(
        &self,
        id: &str,
        input: FamilyMemberInput,
    ) -> Result<FamilyMember, Error> {
        let body = PatientInput::try_from(input)?;
        check_path_id("id", id, "is not a family member's id", &[])?;
        let path = format!("/patients/{id}");
        self.save_patient(ApiRequest::put(&path), &body)
    }

    /// Walk-in registrations made with this account's number, waiting for an answer.
    pub fn walk_in_offers(&self) -> Result<Vec<WalkInOffer>, Error> {
        let offers: Vec<walk_in::WalkInOffer> = self.get("/me/walk-ins")?;
        Ok(offers.into_iter().map(WalkInOffer::from).collect())
    }

    /// Takes a walk-in into the family (`relation` may be left out only while the account has
    /// no `self` profile) and keeps it in the offline copy.
    pub fn accept_walk_in(
        &self,
        id: &str,
        relation: Option<String>,
    ) -> Result<FamilyMember, Error> {
        check_path_id("id", id, "is not a walk-in offer's id", &[])?;
        let path = format!("/me/walk-ins/{id}/accept");
        self.save_patient(ApiRequest::post(&path), &walk_in::WalkInAccept { relation })
    }

    /// Says a walk-in is not this family's; it stays with its health centre.
    pub fn decline_walk_in(&self, id: &str) -> Result<(), Error> {
        check_path_id("id", id, "is not a walk-in offer's id", &[])?;
        let path = format!("/me/walk-ins/{id}/decline");
        self.with_session(|session| {
            self.api
                .send(ApiRequest::post(&path).bearer(&session.token))
                .map(drop)
        })
    }

    /// Sends a profile (add or replace) and keeps the answer in the offline copy.
    fn save_patient<B: Serialize>(
        &self,
        request: ApiRequest<'_>,
        body: &B,
    ) -> Result<FamilyMember, Error> {
        let (account_id, patient) = self.with_session(|session| {
            let patient: Patient = self
                .api
                .send(request.bearer(&session.token).json(body))?
                .json()?;
            Ok((session.user.id.clone(), patient))
        })?;
        self.store.save_family_member(&account_id, &patient)?;
        Ok(patient.into())
    }
}

impl Core {
    pub fn api(&self) -> &Api {
        &self.api
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Staff (doctors, CHOs, pharmacists, administrators) log in with username and password.
    pub fn login_staff(
        &self,
        username: &str,
        password: &str,
        device_name: Option<String>,
    ) -> Result<SignedIn, Error> {
        let body = PasswordLogin {
            username: username.trim().to_owned(),
            password: password.to_owned(),
            device_name,
        };
        let issued: SessionIssued = self
            .api
            .send(ApiRequest::post("/auth/login").json(&body))?
            .json()?;
        self.store.save_session(&issued)?;
        Ok(issued.into())
    }

    /// A GET with the session, its JSON answer read as `T`.
    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.with_session(|session| {
            self.api
                .send(ApiRequest::get(path).bearer(&session.token))?
                .json()
        })
    }

    /// A POST with the session and an optional JSON body, its answer read as `T`.
    pub(crate) fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Error> {
        self.with_session(|session| {
            let mut request = ApiRequest::post(path).bearer(&session.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            self.api.send(request)?.json()
        })
    }

    /// OPDs the patient can book now, each with its bookable sessions.
    pub fn list_opds(&self) -> Result<Vec<Opd>, Error> {
        let listings: Vec<OpdListing> = self.get("/opds")?;
        Ok(listings.into_iter().map(Opd::from).collect())
    }

    /// Books a token, safely repeatable: the `Idempotency-Key` is stored on the phone before
    /// the request goes out, and reused by any later attempt for the same person and session
    /// (this call again, or [`Core::retry_pending_bookings`] after the app restarts), so a lost
    /// answer never books a second token. A repeated attempt sends the first attempt's request
    /// (its priority reason included): the server answers it with the first result.
    pub fn book_token(
        &self,
        session_id: &str,
        patient_id: &str,
        priority_reason: Option<PriorityReason>,
    ) -> Result<BookedToken, Error> {
        check_session_id(session_id)?;
        check_path_id("patient_id", patient_id, "is not a family member's id", &[])?;
        let session = self.store.session()?.ok_or(Error::NotLoggedIn)?;
        let pending = self.store.pending_booking_for(
            &session.user.id,
            session_id,
            patient_id,
            priority_reason.map(Into::into),
            &uuid::Uuid::new_v4().to_string(),
        )?;
        self.send_booking(&pending)
    }

    /// Sends a pending booking; forgets it once the server has answered either way.
    fn send_booking(&self, pending: &PendingBooking) -> Result<BookedToken, Error> {
        let body = BookToken {
            session_id: pending.session_id.clone(),
            patient_id: pending.patient_id.clone(),
            priority_reason: pending.priority_reason,
        };
        let result = self.with_session(|session| {
            self.api
                .send(
                    ApiRequest::post("/tokens")
                        .bearer(&session.token)
                        .json(&body)
                        .idempotency_key(pending.idempotency_key.clone()),
                )?
                .json::<Token>()
        });
        match &result {
            Ok(_) => self
                .store
                .forget_pending_booking(&pending.idempotency_key)?,
            Err(error) if error.is_definite_refusal() => self
                .store
                .forget_pending_booking(&pending.idempotency_key)?,
            // No answer, or a server failure: the booking may or may not exist, so the key is
            // kept for the next attempt.
            Err(_) => {}
        }
        result.map(BookedToken::from)
    }

    /// Sends again every booking whose answer never arrived (call at app start and when the
    /// network returns). Returns the tokens now confirmed; bookings the server refused are
    /// dropped (`my_tokens()` shows what exists). Stops at the first network failure, leaving
    /// the rest pending.
    pub fn retry_pending_bookings(&self) -> Result<Vec<BookedToken>, Error> {
        let mut booked = Vec::new();
        for pending in self.store.pending_bookings()? {
            match self.send_booking(&pending) {
                Ok(token) => booked.push(token),
                Err(error) if error.is_definite_refusal() && !error.is_session_rejected() => {}
                Err(error) => return Err(error),
            }
        }
        Ok(booked)
    }

    /// How many bookings are waiting for the server's answer.
    pub fn pending_booking_count(&self) -> Result<i32, Error> {
        Ok(i32::try_from(self.store.pending_bookings()?.len()).unwrap_or(i32::MAX))
    }

    /// The family's tokens, newest first.
    pub fn my_tokens(&self) -> Result<Vec<BookedToken>, Error> {
        let tokens: Vec<Token> = self.get("/tokens")?;
        Ok(tokens.into_iter().map(BookedToken::from).collect())
    }

    pub fn token(&self, token_id: &str) -> Result<BookedToken, Error> {
        check_token_id(token_id)?;
        Ok(self.get::<Token>(&format!("/tokens/{token_id}"))?.into())
    }

    pub fn cancel_token(&self, token_id: &str) -> Result<BookedToken, Error> {
        self.token_action(token_id, "cancel")
    }

    /// The called patient joins the consultation.
    pub fn join_consultation(&self, token_id: &str) -> Result<BookedToken, Error> {
        self.token_action(token_id, "join")
    }

    fn token_action(&self, token_id: &str, action: &str) -> Result<BookedToken, Error> {
        check_token_id(token_id)?;
        let token: Token = self.post::<(), _>(&format!("/tokens/{token_id}/{action}"), None)?;
        Ok(token.into())
    }

    /// The token as the server has it, with the time of each step it passed (the queue watch
    /// reads its session and its history).
    pub(crate) fn fetch_token(&self, api: &Api, token_id: &str) -> Result<Token, Error> {
        check_token_id(token_id)?;
        let path = format!("/tokens/{token_id}");
        self.with_session(|session| {
            api.send(ApiRequest::get(&path).bearer(&session.token))?
                .json()
        })
    }

    /// The token's status from the server (a conditional GET with the stored ETag), kept in
    /// the store for offline use.
    pub(crate) fn refresh_status(&self, api: &Api, token_id: &str) -> Result<QueueUpdate, Error> {
        check_token_id(token_id)?;
        let cached = self.store.queue_status(token_id)?;
        let etag = cached.as_ref().and_then(|cached| cached.etag.as_deref());
        let path = format!("/tokens/{token_id}/status");
        let (account_id, answer) = self.with_session(|session| {
            let answer = api.send(
                ApiRequest::get(&path)
                    .bearer(&session.token)
                    .if_none_match(etag),
            )?;
            Ok((session.user.id.clone(), answer))
        })?;
        if answer.not_modified() {
            if let Some(cached) = cached {
                return Ok(QueueUpdate::new(cached.status, false));
            }
        }
        let status: QueueStatus = answer.json()?;
        self.store
            .save_queue_status(&account_id, &status, answer.etag.as_deref())?;
        Ok(QueueUpdate::new(status, false))
    }

    /// The token's place in the queue. Offline, the last status received is returned with
    /// `stale = true` (a `Network` error only if there is none).
    pub fn queue_status(&self, token_id: &str) -> Result<QueueUpdate, Error> {
        match self.refresh_status(&self.api, token_id) {
            Err(error) if error.is_network() => match self.store.queue_status(token_id)? {
                Some(cached) => Ok(QueueUpdate::new(cached.status, true)),
                None => Err(error),
            },
            result => result,
        }
    }

    /// A doctor goes online or offline for an OPD they work.
    pub fn set_online(&self, opd_id: &str, online: bool) -> Result<DoctorPresence, Error> {
        let body = PresenceUpdate {
            opd_id: opd_id.to_owned(),
            online,
        };
        Ok(self
            .post::<_, Presence>("/doctor/presence", Some(&body))?
            .into())
    }

    /// Keeps an online doctor online (send at least every 90 s).
    pub fn heartbeat(&self) -> Result<(), Error> {
        self.with_session(|session| {
            self.api
                .send(ApiRequest::post("/doctor/heartbeat").bearer(&session.token))
                .map(drop)
        })
    }

    /// The session's queue as the doctor sees it: being served first, then in call order.
    pub fn session_queue(&self, session_id: &str) -> Result<Vec<WaitingPatient>, Error> {
        check_session_id(session_id)?;
        let entries: Vec<QueueEntry> = self.get(&format!("/opd-sessions/{session_id}/queue"))?;
        Ok(entries.into_iter().map(WaitingPatient::from).collect())
    }

    /// Calls the next patient by the ordering rule. Safe to repeat: while the doctor has a
    /// patient called or in consultation, the server answers that patient and calls nobody new,
    /// so a call whose answer was lost is retried here (and may be made again by the app) and
    /// gets the patient already called, never a second one.
    pub fn call_next(&self, session_id: &str) -> Result<BookedToken, Error> {
        check_session_id(session_id)?;
        let path = format!("/opd-sessions/{session_id}/call-next");
        let token: Token = self.with_session(|session| {
            self.api
                .send(ApiRequest::post(&path).bearer(&session.token).repeatable())?
                .json()
        })?;
        Ok(token.into())
    }

    pub fn start_consultation(&self, token_id: &str) -> Result<BookedToken, Error> {
        self.token_action(token_id, "start")
    }

    pub fn complete_consultation(&self, token_id: &str) -> Result<BookedToken, Error> {
        self.token_action(token_id, "complete")
    }

    pub fn mark_no_show(&self, token_id: &str) -> Result<BookedToken, Error> {
        self.token_action(token_id, "no-show")
    }
}

/// An id that goes into the URL path: only characters that cannot change the path.
fn check_path_id(
    field: &'static str,
    id: &str,
    message: &str,
    also_allowed: &[char],
) -> Result<(), Error> {
    let fine = |c: char| c.is_ascii_alphanumeric() || c == '-' || also_allowed.contains(&c);
    if id.is_empty() || id.len() > 100 || !id.chars().all(fine) {
        return Err(Error::InvalidInput {
            field,
            code: "invalid_id",
            message: message.into(),
        });
    }
    Ok(())
}

pub(crate) fn check_token_id(id: &str) -> Result<(), Error> {
    check_path_id("token_id", id, "is not a token's id", &[])
}

/// Session ids read `<opd id>@<YYYY-MM-DDTHH:MM>`.
fn check_session_id(id: &str) -> Result<(), Error> {
    check_path_id("session_id", id, "is not an OPD session's id", &['@', ':'])
}

/// The Sanjeevani client for the apps: logs in by OTP, keeps the session on the device, and
/// manages the signed-in patient's family (also readable offline).
#[derive(Debug, uniffi::Object)]
pub struct SanjeevaniClient {
    // Shared with queue watch threads.
    pub(crate) core: Arc<Core>,
}

#[uniffi::export]
impl SanjeevaniClient {
    /// `base_url` is the server's address, e.g. `https://sanjeevani.example.in` (plain
    /// `http://` only for localhost and the Android emulator's `10.0.2.2`). `data_dir` is a
    /// directory private to the app and kept out of backups: it holds the session token
    /// (Android `Context.noBackupFilesDir`, which Auto Backup never copies; iOS Application
    /// Support with `isExcludedFromBackup`); it is created if missing.
    #[uniffi::constructor]
    pub fn new(base_url: String, data_dir: String) -> Result<Arc<Self>, MobileError> {
        Ok(Arc::new(Self {
            core: Arc::new(Core::open(&base_url, Path::new(&data_dir))?),
        }))
    }

    /// As the constructor, but the session token is kept in the app's `secret_store` (Android
    /// Keystore, iOS Keychain) instead of the SQLite file; the rest of the data stays in
    /// `data_dir`. A token stored in the file by an earlier version moves into it.
    #[uniffi::constructor]
    pub fn with_secret_store(
        base_url: String,
        data_dir: String,
        secret_store: Arc<dyn SecretStore>,
    ) -> Result<Arc<Self>, MobileError> {
        Ok(Arc::new(Self {
            core: Arc::new(Core::open_with(
                &base_url,
                Path::new(&data_dir),
                RetryPolicy::DEFAULT,
                TokenVault::App(secret_store),
            )?),
        }))
    }

    /// How long each call may take in all, retries included, before it fails with `Network`
    /// (default 10 s: a person is waiting). Applies to calls already made by other threads
    /// from their next attempt, and to the queue watch's polls.
    pub fn set_deadline_ms(&self, deadline_ms: i64) {
        self.core
            .api()
            .set_deadline(std::time::Duration::from_millis(
                u64::try_from(deadline_ms).unwrap_or(0),
            ));
    }

    /// Sends this client's HTTP requests through the platform's proxy, which the app reads
    /// (Android `ConnectivityManager.getDefaultProxy()`, iOS `CFNetworkCopySystemProxySettings`)
    /// and passes as `http://host:port`; `None` goes back to the environment's proxy
    /// (`HTTPS_PROXY`, `ALL_PROXY`), if any. The call's WebSocket does not use it.
    #[uniffi::method(default(proxy_url = None))]
    pub fn set_proxy(&self, proxy_url: Option<String>) -> Result<(), MobileError> {
        Ok(self.core.api().set_proxy(proxy_url.as_deref())?)
    }

    /// Ends this client's work: every later call fails at once with `Closed`, a call waiting on
    /// the network gives up at its deadline, and queue watches end at their next fetch. For an
    /// app's `onDestroy` (before the binding's own `close()`/`destroy()`, which cannot end a
    /// call in flight); the local store (session, prescriptions) stays on the device.
    pub fn cancel_all(&self) {
        self.core.api().close();
    }

    /// Sends a login code by SMS. The number is checked on the phone first.
    pub fn request_otp_phone(&self, phone: String) -> Result<OtpSent, MobileError> {
        Ok(self.core.request_otp_phone(&phone)?)
    }

    /// Sends a login code by email.
    pub fn request_otp_email(&self, email: String) -> Result<OtpSent, MobileError> {
        Ok(self.core.request_otp_email(&email)?)
    }

    /// Checks the code and keeps the new session on the device.
    #[uniffi::method(default(device_name = None))]
    pub fn verify_otp_phone(
        &self,
        phone: String,
        code: String,
        device_name: Option<String>,
    ) -> Result<SignedIn, MobileError> {
        Ok(self.core.verify_otp_phone(&phone, &code, device_name)?)
    }

    #[uniffi::method(default(device_name = None))]
    pub fn verify_otp_email(
        &self,
        email: String,
        code: String,
        device_name: Option<String>,
    ) -> Result<SignedIn, MobileError> {
        Ok(self.core.verify_otp_email(&email, &code, device_name)?)
    }

    /// Whether a session is stored on this device (no network).
    pub fn is_logged_in(&self) -> Result<bool, MobileError> {
        Ok(self.core.is_logged_in()?)
    }

    /// Who is signed in on this phone and with which role, as last heard from the server, with
    /// no network (`None` when nobody is). For an app opened offline: a pharmacist's scanner, a
    /// patient's prescriptions. `current_user()` refreshes it.
    pub fn cached_user(&self) -> Result<Option<User>, MobileError> {
        Ok(self.core.cached_user()?)
    }

    /// The signed-in user, from the server.
    pub fn current_user(&self) -> Result<User, MobileError> {
        Ok(self.core.current_user()?)
    }

    /// Logs out on the server if reachable, and always on this device.
    pub fn logout(&self) -> Result<(), MobileError> {
        Ok(self.core.logout()?)
    }

    /// The account holder first, then family members; also refreshes the offline copy.
    pub fn family(&self) -> Result<Vec<FamilyMember>, MobileError> {
        Ok(self.core.family()?)
    }

    /// The family as last fetched, without the network.
    pub fn cached_family(&self) -> Result<Vec<FamilyMember>, MobileError> {
        Ok(self.core.cached_family()?)
    }

    /// Adds the account holder's own profile (the first call) or a family member.
    pub fn add_family_member(&self, input: FamilyMemberInput) -> Result<FamilyMember, MobileError> {
        Ok(self.core.add_family_member(input)?)
    }

    /// Replaces a person's profile.
    pub fn update_family_member(
        &self,
        id: String,
        input: FamilyMemberInput,
    ) -> Result<FamilyMember, MobileError> {
        Ok(self.core.update_family_member(&id, input)?)
    }

    /// Visits a health worker registered with this account's number, waiting for "is this
    /// yours?" (`SignedIn.pending_walk_ins` says how many after an OTP login).
    pub fn walk_in_offers(&self) -> Result<Vec<WalkInOffer>, MobileError> {
        Ok(self.core.walk_in_offers()?)
    }

    /// Yes, this visit is the family's: it joins the family as `relation` (left out: the
    /// holder, allowed only while the account has no own profile).
    #[uniffi::method(default(relation = None))]
    pub fn accept_walk_in(
        &self,
        id: String,
        relation: Option<String>,
    ) -> Result<FamilyMember, MobileError> {
        Ok(self.core.accept_walk_in(&id, relation)?)
    }

    /// No, this visit is not the family's.
    pub fn decline_walk_in(&self, id: String) -> Result<(), MobileError> {
        Ok(self.core.decline_walk_in(&id)?)
    }

    /// Staff login with username and password (doctors use the queue calls below).
    #[uniffi::method(default(device_name = None))]
    pub fn login_staff(
        &self,
        username: String,
        password: String,
        device_name: Option<String>,
    ) -> Result<SignedIn, MobileError> {
        Ok(self.core.login_staff(&username, &password, device_name)?)
    }

    /// OPDs that can be booked now, with their sessions, tokens left and expected wait.
    pub fn list_opds(&self) -> Result<Vec<Opd>, MobileError> {
        Ok(self.core.list_opds()?)
    }

    /// Books a token for the holder or a family member. Safe to call again after a network
    /// failure: the same person and session reuse the stored idempotency key, so at most one
    /// token is booked. `Conflict` codes: `session_full`, `already_booked`,
    /// `booking_not_open`, `session_ended`, `idempotency_key_reused`.
    #[uniffi::method(default(priority_reason = None))]
    pub fn book_token(
        &self,
        session_id: String,
        patient_id: String,
        priority_reason: Option<PriorityReason>,
    ) -> Result<BookedToken, MobileError> {
        Ok(self
            .core
            .book_token(&session_id, &patient_id, priority_reason)?)
    }

    /// Sends again the bookings whose answer never arrived; returns the tokens confirmed.
    pub fn retry_pending_bookings(&self) -> Result<Vec<BookedToken>, MobileError> {
        Ok(self.core.retry_pending_bookings()?)
    }

    /// Bookings still waiting for the server's answer (no network).
    pub fn pending_booking_count(&self) -> Result<i32, MobileError> {
        Ok(self.core.pending_booking_count()?)
    }

    /// The family's tokens, newest first.
    pub fn my_tokens(&self) -> Result<Vec<BookedToken>, MobileError> {
        Ok(self.core.my_tokens()?)
    }

    pub fn token(&self, token_id: String) -> Result<BookedToken, MobileError> {
        Ok(self.core.token(&token_id)?)
    }

    /// Cancels a token still in the queue.
    pub fn cancel_token(&self, token_id: String) -> Result<BookedToken, MobileError> {
        Ok(self.core.cancel_token(&token_id)?)
    }

    /// The called patient joins the consultation (before `join_deadline`).
    pub fn join_consultation(&self, token_id: String) -> Result<BookedToken, MobileError> {
        Ok(self.core.join_consultation(&token_id)?)
    }

    /// The token's place in the queue now; offline, the last one known with `stale = true`.
    pub fn queue_status(&self, token_id: String) -> Result<QueueUpdate, MobileError> {
        Ok(self.core.queue_status(&token_id)?)
    }

    /// Watches the token on a background thread, telling `listener` about every change
    /// (polling every 2 s, backing off to 30 s when offline) until the returned watch is
    /// stopped or the token is completed or cancelled.
    pub fn watch_queue(
        &self,
        token_id: String,
        listener: Arc<dyn QueueListener>,
    ) -> Result<Arc<QueueWatch>, MobileError> {
        Ok(self.watch_queue_with(token_id, listener, WatchTiming::DEFAULT)?)
    }

    /// A doctor goes online or offline for an OPD.
    pub fn set_online(&self, opd_id: String, online: bool) -> Result<DoctorPresence, MobileError> {
        Ok(self.core.set_online(&opd_id, online)?)
    }

    /// Keeps the doctor online; send at least every 90 s. `Conflict` `not_online` if offline.
    pub fn heartbeat(&self) -> Result<(), MobileError> {
        Ok(self.core.heartbeat()?)
    }

    /// The session's queue for the doctor: being served, then waiting in call order.
    pub fn session_queue(&self, session_id: String) -> Result<Vec<WaitingPatient>, MobileError> {
        Ok(self.core.session_queue(&session_id)?)
    }

    /// Calls the next patient. Safe to call again after a network failure: while the doctor
    /// has a patient called or in consultation, the answer is that patient (nobody new is
    /// called). `Conflict` codes: `queue_empty`, `doctor_offline`, `session_not_started`.
    pub fn call_next(&self, session_id: String) -> Result<BookedToken, MobileError> {
        Ok(self.core.call_next(&session_id)?)
    }

    pub fn start_consultation(&self, token_id: String) -> Result<BookedToken, MobileError> {
        Ok(self.core.start_consultation(&token_id)?)
    }

    pub fn complete_consultation(&self, token_id: String) -> Result<BookedToken, MobileError> {
        Ok(self.core.complete_consultation(&token_id)?)
    }

    /// The called patient did not join in time.
    pub fn mark_no_show(&self, token_id: String) -> Result<BookedToken, MobileError> {
        Ok(self.core.mark_no_show(&token_id)?)
    }
}

impl SanjeevaniClient {
    /// The plain-Rust logic, for Rust callers that want the internal errors.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// [`Self::watch_queue`] with another polling rhythm (tests poll faster).
    pub fn watch_queue_with(
        &self,
        token_id: String,
        listener: Arc<dyn QueueListener>,
        timing: WatchTiming,
    ) -> Result<Arc<QueueWatch>, Error> {
        crate::queue::watch(self.core.clone(), token_id, listener, timing).map(Arc::new)
    }
}
