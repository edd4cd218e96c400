//! [`SanjeevaniClient`], the one object the apps hold, and [`Core`], the plain-Rust logic behind
//! it. Each exported method is a single line that calls `Core` and turns its internal
//! [`Error`] into the public [`MobileError`]; Rust code and tests can use `Core` directly and
//! keep every cause.
//!
//! Calls are blocking: apps call them from a background thread (Kotlin `Dispatchers.IO`, a
//! Swift `Task.detached`, a Python thread). There is no async runtime inside.

use std::path::Path;
use std::sync::Arc;

use sanjeevani_types::auth::{Me, OtpRequest, OtpRequested, OtpVerify, SessionIssued};
use sanjeevani_types::domain::{EmailAddress, OtpCode, PhoneNumber};
use sanjeevani_types::patient::{Patient, PatientInput};

use crate::api::{Api, ApiRequest, RetryPolicy};
use crate::error::{Error, MobileError};
use crate::records::{FamilyMember, FamilyMemberInput, OtpSent, SignedIn, User};
use crate::store::{Store, StoredSession};

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
        Ok(Self {
            api: Api::new(base_url, retry)?,
            store: Store::open(data_dir)?,
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

    /// Runs a call that needs the session. If the server refuses the token, the session is
    /// forgotten here, once for every endpoint.
    fn with_session<T>(
        &self,
        call: impl FnOnce(&StoredSession) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let session = self.store.session()?.ok_or(Error::NotLoggedIn)?;
        let result = call(&session);
        if let Err(error) = &result {
            if error.is_session_rejected() {
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
        // The id goes into the URL path: refuse anything that could change the path.
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(Error::InvalidInput {
                field: "id",
                code: "invalid_id",
                message: "is not a family member's id".into(),
            });
        }
        let path = format!("/patients/{id}");
        self.save_patient(ApiRequest::put(&path), &body)
    }

    /// Sends a profile (add or replace) and keeps the answer in the offline copy.
    fn save_patient(
        &self,
        request: ApiRequest<'_>,
        body: &PatientInput,
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

/// The Sanjeevani client for the apps: logs in by OTP, keeps the session on the device, and
/// manages the signed-in patient's family (also readable offline).
#[derive(Debug, uniffi::Object)]
pub struct SanjeevaniClient {
    core: Core,
}

#[uniffi::export]
impl SanjeevaniClient {
    /// `base_url` is the server's address, e.g. `https://sanjeevani.example.in` (plain
    /// `http://` only for localhost and the Android emulator's `10.0.2.2`). `data_dir` is a
    /// directory private to the app (Android `Context.filesDir`, iOS Application Support);
    /// it is created if missing.
    #[uniffi::constructor]
    pub fn new(base_url: String, data_dir: String) -> Result<Arc<Self>, MobileError> {
        Ok(Arc::new(Self {
            core: Core::open(&base_url, Path::new(&data_dir))?,
        }))
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
}

impl SanjeevaniClient {
    /// The plain-Rust logic, for Rust callers that want the internal errors.
    pub fn core(&self) -> &Core {
        &self.core
    }
}
