//! Staff accounts, managed by administrators within their scope.

use sanjeevani_types::domain::{BoundedText, EmailAddress, FacilityKind, PhoneNumber, Role};
use sanjeevani_types::staff::{NewStaff, Staff};

use super::ServiceError;
use crate::auth::hashing::hash_password;
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::{AdminScope, Principal};
use crate::models::facilities::{self, FacilityRow};
use crate::models::users::{self, NewUser, User};
use crate::models::{audit, sessions, throttles};
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

/// OWASP's minimum for passwords without other composition rules.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A validated request to create a staff account.
#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub role: Role,
    pub name: BoundedText,
    pub username: String,
    pub password: String,
    pub phone: Option<PhoneNumber>,
    pub email: Option<EmailAddress>,
    pub facility_id: Option<String>,
    pub state_code: Option<String>,
    pub registration_number: Option<BoundedText>,
    pub specialty: Option<BoundedText>,
}

impl StaffAccount {
    pub fn parse(input: &NewStaff) -> Result<Self, ValidationError> {
        let mut fields = Fields::new();
        if input.role == Role::Patient {
            fields.add(
                "role",
                "invalid_choice",
                "must be doctor, cho, pharmacist or admin",
            );
        }
        let name = fields.check("name", BoundedText::parse(&input.name, 100));
        let username = input.username.trim().to_ascii_lowercase();
        let username_ok = (3..=64).contains(&username.len())
            && username
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !username_ok {
            fields.add(
                "username",
                "invalid_username",
                "3-64 characters of a-z, 0-9, '.', '_', '-'",
            );
        }
        if input.password.chars().count() < MIN_PASSWORD_CHARS || input.password.len() > 1024 {
            fields.add(
                "password",
                "weak_password",
                format!("must be {MIN_PASSWORD_CHARS} to 1024 characters long"),
            );
        }
        let phone = fields.check_optional("phone", input.phone.as_deref(), PhoneNumber::parse);
        let email = fields.check_optional("email", input.email.as_deref(), EmailAddress::parse);
        let registration_number = fields.check_optional(
            "registration_number",
            input.registration_number.as_deref(),
            // Shown on the signed prescription and checked against the council's register.
            |text| BoundedText::parse_plain(text, 40),
        );
        let specialty = fields.check_optional("specialty", input.specialty.as_deref(), |text| {
            BoundedText::parse(text, 80)
        });
        let facility_id = input
            .facility_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let state_code = input
            .state_code
            .as_deref()
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty());
        match input.role {
            Role::Doctor | Role::Cho | Role::Pharmacist if facility_id.is_none() => {
                fields.required("facility_id")
            }
            Role::Doctor if registration_number.is_none() => fields.required("registration_number"),
            Role::Admin if facility_id.is_some() && state_code.is_some() => fields.add(
                "state_code",
                "conflict",
                "give facility_id or state_code, not both",
            ),
            _ => {}
        }
        fields.finish(|| StaffAccount {
            role: input.role,
            name: name.expect("checked"),
            username,
            password: input.password.clone(),
            phone,
            email,
            facility_id: facility_id.map(str::to_owned),
            state_code: if input.role == Role::Admin {
                state_code
            } else {
                None
            },
            registration_number,
            specialty,
        })
    }

    fn admin_scope(&self) -> Option<AdminScope> {
        (self.role == Role::Admin).then(|| match (&self.facility_id, &self.state_code) {
            (Some(facility), _) => AdminScope::Facility(facility.clone()),
            (None, Some(state)) => AdminScope::State(state.clone()),
            (None, None) => AdminScope::National,
        })
    }
}

/// Which kind of facility each role works at.
fn facility_kind_for(role: Role) -> Option<FacilityKind> {
    match role {
        Role::Doctor => Some(FacilityKind::Hub),
        Role::Cho => Some(FacilityKind::Spoke),
        Role::Pharmacist => Some(FacilityKind::Pharmacy),
        Role::Admin | Role::Patient => None,
    }
}

pub fn to_api(user: User) -> Staff {
    Staff {
        role: Role::parse(&user.role).unwrap_or(Role::Admin),
        disabled: user.disabled_at.is_some(),
        created_at: utc(user.created_at),
        id: user.id,
        name: user.name,
        username: user.username.unwrap_or_default(),
        facility_id: user.facility_id,
        state_code: user.state_code,
        registration_number: user.registration_number,
        specialty: user.specialty,
        locked_at: None,
        signed_in_devices: 0,
        last_seen_at: None,
    }
}

/// The accounts with their password locks and their live sessions: the administrator's list
/// shows who is locked out and who is signed in where.
fn with_locks(
    conn: &mut crate::db::DbConnection,
    rows: Vec<User>,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<Vec<Staff>> {
    let usernames: Vec<String> = rows.iter().filter_map(|u| u.username.clone()).collect();
    let ids: Vec<String> = rows.iter().map(|u| u.id.clone()).collect();
    let mut locked = std::collections::HashMap::new();
    let mut live = std::collections::HashMap::new();
    // Bounded batches: a national list has thousands of accounts, and SQLite binds at most
    // 32,766 parameters in one statement.
    for chunk in usernames.chunks(1_000) {
        locked.extend(throttles::locked_logins(conn, chunk)?);
    }
    for chunk in ids.chunks(1_000) {
        for (user, count, seen) in sessions::live_by_users(conn, chunk, now)? {
            live.insert(user, (count, seen));
        }
    }
    Ok(rows
        .into_iter()
        .map(|user| {
            let at = user.username.as_ref().and_then(|u| locked.get(u)).copied();
            let (devices, seen) = live.get(&user.id).copied().unwrap_or((0, None));
            Staff {
                locked_at: at.map(utc),
                signed_in_devices: devices as i32,
                last_seen_at: seen.map(utc),
                ..to_api(user)
            }
        })
        .collect())
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewStaff,
) -> Result<Staff, ServiceError> {
    let scope = principal.admin_scope()?;
    let account = StaffAccount::parse(&input)?;
    let password = account.password.clone();
    let password_hash = crate::auth::hashing::off_thread(move || hash_password(&password))
        .await
        .map_err(|_| crate::db::StoreError::Unavailable("hashing task failed".into()))?;
    let actor = principal.user_id.clone();
    let now = state.clock.now_naive();
    let user = state
        .db
        .write(move |conn| -> Result<User, ServiceError> {
            let facility: Option<FacilityRow> = match &account.facility_id {
                Some(id) => Some(facilities::find(conn, id)?.ok_or_else(|| {
                    ValidationError::single("facility_id", "unknown_facility", "no such facility")
                })?),
                None => None,
            };
            if let (Some(facility), Some(kind)) = (&facility, facility_kind_for(account.role)) {
                if facility.kind != kind.as_str() {
                    return Err(ValidationError::single(
                        "facility_id",
                        "wrong_facility_kind",
                        format!("a {} works at a {}", account.role, kind),
                    )
                    .into());
                }
            }
            if let Some(code) = &account.state_code {
                if !facilities::state_exists(conn, code)? {
                    return Err(ValidationError::single(
                        "state_code",
                        "unknown_state",
                        "no such state",
                    )
                    .into());
                }
            }
            // Scope: the new account must sit inside the creating administrator's scope.
            let allowed = match (account.admin_scope(), &facility) {
                (Some(new_scope), facility) => scope.contains(&new_scope, facility.as_ref()),
                (None, Some(facility)) => scope.covers(facility),
                (None, None) => false,
            };
            if !allowed {
                return Err(ServiceError::Forbidden);
            }
            if users::username_taken(conn, &account.username)? {
                return Err(ServiceError::Conflict {
                    code: "username_taken",
                    message: "That username is already in use.".into(),
                });
            }
            let id = new_id();
            let state_code = account
                .state_code
                .clone()
                .or_else(|| facility.as_ref().map(|f| f.state_code.clone()));
            NewUser {
                id: &id,
                role: account.role.as_str(),
                name: account.name.as_ref(),
                phone: account.phone.as_ref().map(AsRef::as_ref),
                email: account.email.as_ref().map(AsRef::as_ref),
                username: Some(&account.username),
                password_hash: Some(&password_hash),
                facility_id: account.facility_id.as_deref(),
                // Facility staff carry their facility's state too, for state-scoped listings;
                // only an admin without a facility is scoped by it.
                state_code: state_code.as_deref(),
                registration_number: account.registration_number.as_ref().map(AsRef::as_ref),
                specialty: account.specialty.as_ref().map(AsRef::as_ref),
                created_at: now,
                updated_at: now,
            }
            .insert(conn)?;
            audit::record(
                conn,
                now,
                Some(&actor),
                "staff.created",
                Some(&id),
                account.role.as_str(),
            )?;
            users::find(conn, &id)?.ok_or(ServiceError::NotFound("staff member"))
        })
        .await?;
    Ok(to_api(user))
}

pub async fn list(state: &AppState, principal: &Principal) -> Result<Vec<Staff>, ServiceError> {
    let scope = principal.admin_scope()?;
    let now = state.clock.now_naive();
    let rows = state
        .db
        .read(move |conn| -> Result<Vec<Staff>, ServiceError> {
            let rows = match &scope {
                AdminScope::National => users::list_staff(conn, None, None)?,
                AdminScope::State(code) => users::list_staff(conn, None, Some(code))?,
                AdminScope::Facility(id) => {
                    users::list_staff(conn, Some(std::slice::from_ref(id)), None)?
                }
            };
            Ok(with_locks(conn, rows, now)?)
        })
        .await?;
    Ok(rows)
}

/// The staff account `id` if it lies within `scope`. Outside the scope the account is not even
/// acknowledged: not found.
fn find_in_scope(
    conn: &mut crate::db::DbConnection,
    scope: &AdminScope,
    id: &str,
) -> Result<User, ServiceError> {
    let user = users::find(conn, id)?
        .filter(|user| user.role != Role::Patient.as_str())
        .ok_or(ServiceError::NotFound("staff member"))?;
    let facility = match &user.facility_id {
        Some(fid) => facilities::find(conn, fid)?,
        None => None,
    };
    let within = match (&facility, user.role.as_str()) {
        (Some(facility), _) => scope.covers(facility),
        (None, "admin") => match &user.state_code {
            Some(code) => scope.contains(&AdminScope::State(code.clone()), None),
            None => *scope == AdminScope::National,
        },
        _ => false,
    };
    if within {
        Ok(user)
    } else {
        Err(ServiceError::NotFound("staff member"))
    }
}

/// One change to a staff account within the caller's scope, in one transaction with its audit
/// entry: `change` does it and returns the entry's detail. The account as it is afterwards.
async fn change_in_scope(
    state: &AppState,
    principal: &Principal,
    id: String,
    action: &'static str,
    change: impl FnOnce(
            &mut crate::db::DbConnection,
            &User,
            chrono::NaiveDateTime,
        ) -> Result<String, ServiceError>
        + Send
        + 'static,
) -> Result<Staff, ServiceError> {
    let scope = principal.admin_scope()?;
    let actor = principal.user_id.clone();
    let now = state.clock.now_naive();
    let user = state
        .db
        .write(move |conn| -> Result<User, ServiceError> {
            let user = find_in_scope(conn, &scope, &id)?;
            let detail = change(conn, &user, now)?;
            audit::record(conn, now, Some(&actor), action, Some(&id), &detail)?;
            users::find(conn, &id)?.ok_or(ServiceError::NotFound("staff member"))
        })
        .await?;
    Ok(to_api(user))
}

/// Lifts the password lock of a staff account within the caller's scope and forgets its
/// failures (`auth::throttle`). Its sessions were never ended by the lock.
pub async fn unlock(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<Staff, ServiceError> {
    change_in_scope(state, principal, id, "staff.unlocked", |conn, user, _| {
        if let Some(username) = &user.username {
            throttles::forget_login(conn, username)?;
        }
        Ok(String::new())
    })
    .await
}

/// Signs a staff account within the caller's scope out of every device (a lost phone, a shared
/// computer left signed in); the account stays usable with its password.
pub async fn sign_out_everywhere(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<Staff, ServiceError> {
    change_in_scope(
        state,
        principal,
        id,
        "staff.signed_out",
        |conn, user, now| {
            let ended = sessions::revoke_all_for_user(conn, &user.id, now)?;
            Ok(format!("sessions={ended}"))
        },
    )
    .await
}

/// Disables (and signs out) or re-enables a staff account within the caller's scope.
pub async fn set_disabled(
    state: &AppState,
    principal: &Principal,
    id: String,
    disabled: bool,
) -> Result<Staff, ServiceError> {
    // Only an administrator is told about their own account: anyone else is refused first.
    principal.admin_scope()?;
    if disabled && id == principal.user_id {
        return Err(ServiceError::Conflict {
            code: "cannot_disable_self",
            message: "You cannot disable your own account.".into(),
        });
    }
    let action = if disabled {
        "staff.disabled"
    } else {
        "staff.enabled"
    };
    change_in_scope(state, principal, id, action, move |conn, user, now| {
        users::set_disabled(conn, &user.id, disabled.then_some(now), now)?;
        if disabled {
            sessions::revoke_all_for_user(conn, &user.id, now)?;
        }
        Ok(String::new())
    })
    .await
}
