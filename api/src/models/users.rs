//! Users: patients' login accounts and staff accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::models::generations;
use crate::schema::users;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub role: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub facility_id: Option<String>,
    pub state_code: Option<String>,
    pub registration_number: Option<String>,
    pub specialty: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub role: &'a str,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub facility_id: Option<&'a str>,
    pub state_code: Option<&'a str>,
    pub registration_number: Option<&'a str>,
    pub specialty: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl<'a> NewUser<'a> {
    /// A patient login account, identified by a phone number or an email address.
    pub fn patient(
        id: &'a str,
        name: &'a str,
        phone: Option<&'a str>,
        email: Option<&'a str>,
        now: NaiveDateTime,
    ) -> Self {
        NewUser {
            id,
            role: "patient",
            name,
            phone,
            email,
            username: None,
            password_hash: None,
            facility_id: None,
            state_code: None,
            registration_number: None,
            specialty: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// A national administrator: an admin of no facility and no state.
    pub fn national_admin(
        id: &'a str,
        name: &'a str,
        username: &'a str,
        password_hash: &'a str,
        now: NaiveDateTime,
    ) -> Self {
        NewUser {
            id,
            role: "admin",
            name,
            phone: None,
            email: None,
            username: Some(username),
            password_hash: Some(password_hash),
            facility_id: None,
            state_code: None,
            registration_number: None,
            specialty: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(users::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    crate::native!(conn, |c| users::table
        .find(id)
        .select(User::as_select())
        .first(c)
        .optional())
}

/// (id, name) of these users, for labelling report rows.
pub fn names(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    users::table
        .filter(users::id.eq_any(ids.to_vec()))
        .select((users::id, users::name))
        .load(conn)
}

crate::fixed_sql! {
    /// Word for word the role condition of the partial indexes `users_patient_phone` and
    /// `users_patient_email`, so that they serve the login lookup (`db::fixed` says why); their
    /// other condition (`phone IS NOT NULL`, `email IS NOT NULL`) follows from the lookup's own
    /// `=`, and keeps each index from serving the other column's lookup.
    PatientRole = "\"users\".\"role\" = 'patient'";
}

/// The patient account that logs in with this phone number (E.164) or email address.
pub fn find_patient_by_login(
    conn: &mut DbConnection,
    phone: Option<&str>,
    email: Option<&str>,
) -> QueryResult<Option<User>> {
    let query = users::table
        .filter(crate::db::fixed::fixed::<PatientRole>())
        .select(User::as_select());
    match (phone, email) {
        (Some(phone), _) => query.filter(users::phone.eq(phone)).first(conn).optional(),
        (None, Some(email)) => query.filter(users::email.eq(email)).first(conn).optional(),
        (None, None) => Ok(None),
    }
}

pub fn find_staff_by_username(
    conn: &mut DbConnection,
    username: &str,
) -> QueryResult<Option<User>> {
    users::table
        .filter(users::username.eq(username))
        .filter(users::role.ne("patient"))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Whether an enabled national administrator (an admin of no facility and no state) exists.
pub fn national_admin_exists(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table
            .filter(users::role.eq("admin"))
            .filter(users::facility_id.is_null())
            .filter(users::state_code.is_null())
            .filter(users::disabled_at.is_null()),
    ))
    .get_result(conn)
}

pub fn username_taken(conn: &mut DbConnection, username: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::username.eq(username)),
    ))
    .get_result(conn)
}

/// Staff, optionally limited to some facilities or a state's facilities (for scoped admins).
pub fn list_staff(
    conn: &mut DbConnection,
    facility_ids: Option<&[String]>,
    state_code: Option<&str>,
) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .filter(users::role.ne("patient"))
        .select(User::as_select())
        .order(users::created_at.asc())
        .into_boxed();
    match (facility_ids, state_code) {
        (Some(ids), Some(state)) => {
            query = query.filter(
                users::facility_id
                    .eq_any(ids.to_vec())
                    .or(users::state_code.eq(state)),
            )
        }
        (Some(ids), None) => query = query.filter(users::facility_id.eq_any(ids.to_vec())),
        (None, Some(state)) => query = query.filter(users::state_code.eq(state)),
        (None, None) => {}
    }
    query.load(conn)
}

pub fn set_disabled(
    conn: &mut DbConnection,
    id: &str,
    disabled_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let changed = diesel::update(users::table.find(id))
        .set((
            users::disabled_at.eq(disabled_at),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    // A cached sign-in of the account must not outlive its disabling in any process.
    generations::sign_ins_changed(conn)?;
    Ok(changed)
}

pub fn set_name(
    conn: &mut DbConnection,
    id: &str,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::name.eq(name), users::updated_at.eq(now)))
        .execute(conn)
}

/// The account's phone number, if it proved it by OTP (only then may walk-in registrations
/// made with that number be offered to it).
pub fn verified_phone(conn: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    users::table
        .find(id)
        .filter(users::phone_verified_at.is_not_null())
        .select(users::phone)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

pub fn mark_phone_verified(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::phone_verified_at.eq(now))
        .execute(conn)
}

/// Updates the account row first thing in a transaction that changes its family, so that on
/// PostgreSQL two such changes to one account run one after the other (the second sees the
/// first's `self`); SQLite's single writer already does.
pub fn lock_for_family_change(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::updated_at.eq(now))
        .execute(conn)
}
