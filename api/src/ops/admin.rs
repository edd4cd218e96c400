//! `sanjeevani create-admin`: the first national administrator of a fresh install, made at the
//! server's console because no one can sign in to make one through the API yet.

use sanjeevani_types::domain::Role;
use sanjeevani_types::staff::NewStaff;

use crate::auth::hashing::hash_password;
use crate::auth::token::new_id;
use crate::db::{Database, StoreError};
use crate::models::audit;
use crate::models::users::{self, NewUser};
use crate::services::staff::StaffAccount;
use crate::validate::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    #[error("{}", describe(.0))]
    Invalid(ValidationError),
    #[error(
        "a national administrator exists already: they create the others (console or API); \
         pass --another to create one more here anyway"
    )]
    Exists,
    #[error("the username {0} is already in use")]
    UsernameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for CreateAdminError {
    fn from(error: diesel::result::Error) -> Self {
        CreateAdminError::Store(error.into())
    }
}

fn describe(error: &ValidationError) -> String {
    error
        .fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Creates a national administrator; returns their id. Refused when an enabled one exists,
/// unless `another`. Audited as done by the operator (no acting user).
pub async fn create_national_admin(
    db: &Database,
    now: chrono::NaiveDateTime,
    username: &str,
    name: &str,
    password: String,
    another: bool,
) -> Result<String, CreateAdminError> {
    let account = StaffAccount::parse(&NewStaff {
        role: Role::Admin,
        name: name.to_owned(),
        username: username.to_owned(),
        password,
        phone: None,
        email: None,
        facility_id: None,
        state_code: None,
        registration_number: None,
        specialty: None,
    })
    .map_err(CreateAdminError::Invalid)?;
    let password = account.password.clone();
    let password_hash = crate::auth::hashing::off_thread(move || hash_password(&password))
        .await
        .map_err(|_| StoreError::Unavailable("hashing task failed".into()))?;
    db.write(move |conn| -> Result<String, CreateAdminError> {
        if !another && users::national_admin_exists(conn)? {
            return Err(CreateAdminError::Exists);
        }
        if users::username_taken(conn, &account.username)? {
            return Err(CreateAdminError::UsernameTaken(account.username.clone()));
        }
        let id = new_id();
        NewUser::national_admin(
            &id,
            account.name.as_ref(),
            &account.username,
            &password_hash,
            now,
        )
        .insert(conn)?;
        audit::record(
            conn,
            now,
            None,
            "staff.created",
            Some(&id),
            "admin (sanjeevani create-admin)",
        )?;
        Ok(id)
    })
    .await
}
