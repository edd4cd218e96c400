//! The on-device database: the signed-in session, the offline copy of the family, bookings
//! still waiting for the server's answer, the last known queue status of each token, and the
//! family's signed prescriptions with the issuer keys that verify them, in one SQLite file
//! under the app's data directory.
//!
//! The schema version is SQLite's `PRAGMA user_version`. [`MIGRATIONS`] lists every schema
//! change in order; opening the store applies the ones the file has not seen yet, each in the
//! same transaction as the version bump, so an app upgrade never loses data and an interrupted
//! upgrade is simply redone. Released migrations are never edited or removed. A file from a
//! newer app (after a downgrade) is refused rather than touched.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sanjeevani_types::auth::{Me, SessionIssued};
use sanjeevani_types::patient::Patient;
use sanjeevani_types::prescription::{Prescription, PrescriptionStatus};
use sanjeevani_types::queue::{PriorityReason, QueueStatus};
use sanjeevani_types::rx::Jwk;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Error;
use crate::secrets::{guarded, TokenVault, SESSION_TOKEN_KEY};

/// The file's name inside the app's data directory.
pub const DATABASE_FILE: &str = "sanjeevani-mobile.sqlite3";

/// Every schema change, oldest first. Entry N (1-based) brings the file to version N.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_session_and_family.sql"),
    include_str!("../migrations/0002_bookings_and_queue.sql"),
    include_str!("../migrations/0003_prescriptions.sql"),
];

/// The session stored on this device.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub token: String,
    pub session_id: String,
    pub expires_at: DateTime<Utc>,
    pub user: Me,
}

/// A booking sent (or about to be sent) whose answer has not been received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBooking {
    pub idempotency_key: String,
    pub session_id: String,
    pub patient_id: String,
    pub priority_reason: Option<PriorityReason>,
}

/// A queue status as last received, with its ETag and when it arrived on this phone.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedStatus {
    pub status: QueueStatus,
    pub etag: Option<String>,
    pub fetched_at: DateTime<Utc>,
}

/// A stored prescription's entry in the list, read without its JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrescriptionRow {
    pub id: String,
    pub patient_id: String,
    pub code: String,
    pub patient_name: String,
    pub doctor_name: String,
    pub opd_name: String,
    pub status: PrescriptionStatus,
    /// Medicine names as written.
    pub medicines: Vec<String>,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub synced_at: DateTime<Utc>,
}

impl PrescriptionRow {
    pub fn of(prescription: &Prescription, synced_at: DateTime<Utc>) -> Self {
        Self {
            id: prescription.id.clone(),
            patient_id: prescription.patient_id.clone(),
            code: prescription.code.clone(),
            patient_name: prescription.patient_name.clone(),
            doctor_name: prescription.doctor_name.clone(),
            opd_name: prescription.opd_name.clone(),
            status: prescription.status,
            medicines: prescription
                .items
                .iter()
                .map(|item| item.prescribed.medicine.clone())
                .collect(),
            issued_at: prescription.issued_at,
            valid_until: prescription.valid_until,
            synced_at,
        }
    }
}

/// The local database. One connection behind a mutex: the app calls from a few background
/// threads at most, and every statement here is short.
#[derive(Debug)]
pub struct Store {
    connection: Mutex<Connection>,
    /// Where the session token is kept ([`crate::secrets`]).
    vault: TokenVault,
}

impl Store {
    /// Opens (creating if needed) the database file in `data_dir` and brings its schema up to
    /// date.
    pub fn open(data_dir: &Path) -> Result<Self, Error> {
        Self::open_with_vault(data_dir, TokenVault::File)
    }

    /// As [`Store::open`], keeping the session token in `vault`.
    pub fn open_with_vault(data_dir: &Path, vault: TokenVault) -> Result<Self, Error> {
        std::fs::create_dir_all(data_dir)?;
        Self::with_connection(Connection::open(data_dir.join(DATABASE_FILE))?, vault)
    }

    /// A throw-away database, for tests.
    pub fn open_in_memory() -> Result<Self, Error> {
        Self::with_connection(Connection::open_in_memory()?, TokenVault::File)
    }

    fn with_connection(mut connection: Connection, vault: TokenVault) -> Result<Self, Error> {
        // Another client on the same file (a second app process, a widget) may hold the lock
        // for a moment.
        connection.busy_timeout(Duration::from_secs(5))?;
        // WAL: readers do not block the writer. FULL: a saved session survives a power cut;
        // the writes here are few, so the extra fsync costs nothing noticeable.
        connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        // Deleted and overwritten content is zeroed, not left in free space: a session token
        // forgotten at logout (or moved to the app's secret store) does not linger in the file.
        connection.pragma_update(None, "secure_delete", "ON")?;
        migrate(&mut connection, MIGRATIONS)?;
        Ok(Self {
            connection: Mutex::new(connection),
            vault,
        })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (statements are
        // atomic and transactions roll back on drop), so the connection stays usable.
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn session(&self) -> Result<Option<StoredSession>, Error> {
        let row = self
            .connection()
            .query_row(
                "SELECT token, session_id, expires_at, user_json FROM session WHERE id = 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((token, session_id, expires_at, user_json)) = row else {
            return Ok(None);
        };
        let token = match &self.vault {
            TokenVault::File if token.is_empty() => {
                // Kept by an app's secret store this client was not given: unreadable here.
                return Ok(None);
            }
            TokenVault::File => token,
            TokenVault::App(secrets) if !token.is_empty() => {
                // Stored in the file by an earlier version: moved into the app's store.
                let moved = token.clone();
                guarded("write", || secrets.write(SESSION_TOKEN_KEY.into(), moved))?;
                let connection = self.connection();
                connection.execute("UPDATE session SET token = '' WHERE id = 1", [])?;
                // The old page, token included, stays in the write-ahead log until a
                // checkpoint copies the new one over it.
                connection.pragma(None, "wal_checkpoint", "TRUNCATE", |_| Ok(()))?;
                token
            }
            TokenVault::App(secrets) => {
                match guarded("read", || secrets.read(SESSION_TOKEN_KEY.into()))? {
                    Some(token) if !token.is_empty() => token,
                    // The app's store lost it (a Keystore key invalidated): signed out.
                    _ => {
                        self.connection().execute("DELETE FROM session", [])?;
                        return Ok(None);
                    }
                }
            }
        };
        Ok(Some(StoredSession {
            token,
            session_id,
            expires_at: parse_time(&expires_at)?,
            user: from_json(&user_json)?,
        }))
    }

    /// The signed-in user as stored on this phone, without the token (and without asking the
    /// app's secret store): who is signed in, for an app opened offline.
    pub fn signed_in_user(&self) -> Result<Option<(Me, DateTime<Utc>)>, Error> {
        let row = self
            .connection()
            .query_row(
                "SELECT user_json, expires_at FROM session WHERE id = 1",
                [],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
            )
            .optional()?;
        row.map(|(user, expires_at)| Ok::<_, Error>((from_json(&user)?, parse_time(&expires_at)?)))
            .transpose()
    }

    /// The token as the row keeps it: itself, or empty when the app's store holds it.
    fn token_for_row(&self, token: &str) -> Result<String, Error> {
        match &self.vault {
            TokenVault::File => Ok(token.to_owned()),
            TokenVault::App(secrets) => {
                let token = token.to_owned();
                guarded("write", || secrets.write(SESSION_TOKEN_KEY.into(), token))?;
                Ok(String::new())
            }
        }
    }

    /// Forgets the token in the app's store, if it keeps it.
    fn forget_token(&self) -> Result<(), Error> {
        match &self.vault {
            TokenVault::File => Ok(()),
            TokenVault::App(secrets) => {
                guarded("delete", || secrets.delete(SESSION_TOKEN_KEY.into()))
            }
        }
    }

    /// Keeps a new session. The offline family copy of any other account is dropped: it is
    /// not the new user's to read.
    pub fn save_session(&self, issued: &SessionIssued) -> Result<(), Error> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transaction.execute(
            "INSERT INTO session (id, token, session_id, expires_at, user_json, saved_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET token = excluded.token,
                 session_id = excluded.session_id, expires_at = excluded.expires_at,
                 user_json = excluded.user_json, saved_at = excluded.saved_at",
            params![
                self.token_for_row(&issued.token)?,
                issued.session_id,
                issued.expires_at.to_rfc3339(),
                to_json(&issued.user),
                now(),
            ],
        )?;
        for table in [
            "family_member",
            "pending_booking",
            "queue_status_cache",
            "prescription",
        ] {
            transaction.execute(
                &format!("DELETE FROM {table} WHERE account_id <> ?1"),
                params![issued.user.id],
            )?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Refreshes the stored user (the name changes once the holder's profile is added).
    pub fn update_user(&self, user: &Me) -> Result<(), Error> {
        self.connection().execute(
            "UPDATE session SET user_json = ?1 WHERE id = 1",
            params![to_json(user)],
        )?;
        Ok(())
    }

    /// Logout: forgets the session and the account's offline data.
    pub fn forget_account(&self) -> Result<(), Error> {
        let mut connection = self.connection();
        let transaction = connection.transaction()?;
        for table in [
            "session",
            "family_member",
            "pending_booking",
            "queue_status_cache",
            "prescription",
        ] {
            transaction.execute(&format!("DELETE FROM {table}"), [])?;
        }
        transaction.commit()?;
        self.forget_token()
    }

    /// Forgets the session the server refused, unless a newer login replaced it meanwhile.
    /// The offline family copy stays: it is still this user's, readable until they log in
    /// again.
    pub fn forget_session_with_token(&self, token: &str) -> Result<(), Error> {
        match &self.vault {
            TokenVault::File => {
                self.connection()
                    .execute("DELETE FROM session WHERE token = ?1", params![token])?;
            }
            TokenVault::App(secrets) => {
                let stored = guarded("read", || secrets.read(SESSION_TOKEN_KEY.into()))?;
                if stored.as_deref() == Some(token) {
                    self.connection().execute("DELETE FROM session", [])?;
                    self.forget_token()?;
                }
            }
        }
        Ok(())
    }

    /// Replaces the offline family copy with the list the server just returned.
    pub fn replace_family(&self, account_id: &str, family: &[Patient]) -> Result<(), Error> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transaction.execute("DELETE FROM family_member", [])?;
        let fetched_at = now();
        for (position, patient) in family.iter().enumerate() {
            transaction.execute(
                "INSERT INTO family_member (id, account_id, position, patient_json, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    patient.id,
                    account_id,
                    i64::try_from(position).unwrap_or(i64::MAX),
                    to_json(patient),
                    fetched_at,
                ],
            )?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Adds or updates one person in the offline copy; a new person goes last, as the server
    /// lists them.
    pub fn save_family_member(&self, account_id: &str, patient: &Patient) -> Result<(), Error> {
        self.connection().execute(
            "INSERT INTO family_member (id, account_id, position, patient_json, fetched_at)
             VALUES (?1, ?2, (SELECT COALESCE(MAX(position) + 1, 0) FROM family_member), ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET patient_json = excluded.patient_json,
                 fetched_at = excluded.fetched_at",
            params![patient.id, account_id, to_json(patient), now()],
        )?;
        Ok(())
    }

    /// The offline family copy, in the server's order.
    pub fn family(&self) -> Result<Vec<Patient>, Error> {
        let connection = self.connection();
        let mut statement =
            connection.prepare("SELECT patient_json FROM family_member ORDER BY position, id")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|json| from_json(&json?)).collect()
    }

    /// The pending booking for this person and session, or a new one with `new_key`, written
    /// before the request goes out (so the key survives the app being killed mid-request).
    pub fn pending_booking_for(
        &self,
        account_id: &str,
        session_id: &str,
        patient_id: &str,
        priority_reason: Option<PriorityReason>,
        new_key: &str,
    ) -> Result<PendingBooking, Error> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transaction.execute(
            "INSERT INTO pending_booking
                 (idempotency_key, account_id, session_id, patient_id, priority_reason, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (session_id, patient_id) DO NOTHING",
            params![
                new_key,
                account_id,
                session_id,
                patient_id,
                priority_reason.map(PriorityReason::as_str),
                now(),
            ],
        )?;
        let booking = transaction.query_row(
            "SELECT idempotency_key, session_id, patient_id, priority_reason FROM pending_booking
             WHERE session_id = ?1 AND patient_id = ?2",
            params![session_id, patient_id],
            pending_from_row,
        )??;
        transaction.commit()?;
        Ok(booking)
    }

    /// Every booking still waiting for an answer, oldest first.
    pub fn pending_bookings(&self) -> Result<Vec<PendingBooking>, Error> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT idempotency_key, session_id, patient_id, priority_reason FROM pending_booking
             ORDER BY created_at, idempotency_key",
        )?;
        let rows = statement.query_map([], pending_from_row)?;
        rows.map(|row| row.map_err(Error::from).and_then(|booking| booking))
            .collect()
    }

    /// The server answered the booking (a token or a definite refusal): nothing to retry.
    pub fn forget_pending_booking(&self, idempotency_key: &str) -> Result<(), Error> {
        self.connection().execute(
            "DELETE FROM pending_booking WHERE idempotency_key = ?1",
            params![idempotency_key],
        )?;
        Ok(())
    }

    /// Keeps the latest status of a token (and its ETag) for showing offline.
    pub fn save_queue_status(
        &self,
        account_id: &str,
        status: &QueueStatus,
        etag: Option<&str>,
    ) -> Result<(), Error> {
        self.connection().execute(
            "INSERT INTO queue_status_cache (token_id, account_id, status_json, etag, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (token_id) DO UPDATE SET account_id = excluded.account_id,
                 status_json = excluded.status_json, etag = excluded.etag,
                 fetched_at = excluded.fetched_at",
            params![status.token_id, account_id, to_json(status), etag, now()],
        )?;
        Ok(())
    }

    /// The last status received for a token, if any.
    pub fn queue_status(&self, token_id: &str) -> Result<Option<CachedStatus>, Error> {
        let row = self
            .connection()
            .query_row(
                "SELECT status_json, etag, fetched_at FROM queue_status_cache WHERE token_id = ?1",
                params![token_id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((json, etag, fetched_at)) = row else {
            return Ok(None);
        };
        Ok(Some(CachedStatus {
            status: from_json(&json)?,
            etag,
            fetched_at: parse_time(&fetched_at)?,
        }))
    }

    /// Replaces the offline prescriptions with the list the server just returned (the whole
    /// family's), in one transaction.
    pub fn replace_prescriptions(
        &self,
        account_id: &str,
        prescriptions: &[Prescription],
    ) -> Result<(), Error> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transaction.execute("DELETE FROM prescription", [])?;
        let synced_at = Utc::now();
        {
            let mut insert = transaction.prepare(
                "INSERT INTO prescription (id, account_id, patient_id, code, patient_name,
                     doctor_name, opd_name, status, medicines, issued_at, valid_until,
                     prescription_json, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for prescription in prescriptions {
                let row = PrescriptionRow::of(prescription, synced_at);
                insert.execute(params![
                    row.id,
                    account_id,
                    row.patient_id,
                    row.code,
                    row.patient_name,
                    row.doctor_name,
                    row.opd_name,
                    status_text(row.status),
                    row.medicines.join("\n"),
                    row.issued_at.to_rfc3339(),
                    row.valid_until.to_rfc3339(),
                    to_json(prescription),
                    synced_at.to_rfc3339(),
                ])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// The stored prescriptions for the list, newest first, without reading their JSON.
    pub fn prescription_rows(&self) -> Result<Vec<PrescriptionRow>, Error> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT id, patient_id, code, patient_name, doctor_name, opd_name, status, medicines,
                 issued_at, valid_until, synced_at
             FROM prescription ORDER BY issued_at DESC, id",
        )?;
        let rows = statement.query_map([], prescription_from_row)?;
        rows.map(|row| row.map_err(Error::from).and_then(|row| row))
            .collect()
    }

    /// One stored prescription as the server returned it, and when it was synced.
    pub fn prescription(&self, id: &str) -> Result<Option<(Prescription, DateTime<Utc>)>, Error> {
        let row = self
            .connection()
            .query_row(
                "SELECT prescription_json, synced_at FROM prescription WHERE id = ?1",
                params![id],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
            )
            .optional()?;
        let Some((json, synced_at)) = row else {
            return Ok(None);
        };
        Ok(Some((from_json(&json)?, parse_time(&synced_at)?)))
    }

    /// Replaces the cached issuer keys with the set the server publishes now (a key it no
    /// longer publishes no longer verifies).
    pub fn replace_issuer_keys(&self, keys: &[Jwk]) -> Result<(), Error> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transaction.execute("DELETE FROM issuer_key", [])?;
        let fetched_at = now();
        for key in keys {
            transaction.execute(
                "INSERT INTO issuer_key (kid, jwk_json, fetched_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kid) DO NOTHING",
                params![key.kid, to_json(key), fetched_at],
            )?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// The cached issuer keys.
    pub fn issuer_keys(&self) -> Result<Vec<Jwk>, Error> {
        let connection = self.connection();
        let mut select = connection.prepare("SELECT jwk_json FROM issuer_key ORDER BY kid")?;
        let rows = select.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|json| from_json(&json?)).collect()
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, Error> {
        Ok(schema_version(&self.connection())?)
    }
}

fn schema_version(connection: &Connection) -> rusqlite::Result<i64> {
    connection.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies the migrations the file has not seen, in order, each with its version bump in one
/// transaction.
pub fn migrate(connection: &mut Connection, migrations: &[&str]) -> Result<(), Error> {
    let known = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    // IMMEDIATE: two processes opening an old file at once must not both upgrade it.
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = schema_version(&transaction)?;
    if found > known {
        return Err(Error::DatabaseTooNew { found, known });
    }
    for (version, sql) in (1..)
        .zip(migrations)
        .skip(usize::try_from(found).unwrap_or(0))
    {
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", version)?;
    }
    transaction.commit()?;
    Ok(())
}

/// Reads one `pending_booking` row; an unknown priority reason is corrupt data, reported as
/// the inner error so one bad row does not look like an SQLite failure.
fn pending_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<PendingBooking, Error>> {
    let reason: Option<String> = row.get(3)?;
    let priority_reason = match reason.as_deref().map(PriorityReason::parse) {
        None => None,
        Some(Some(reason)) => Some(reason),
        Some(None) => {
            return Ok(Err(Error::CorruptLocalData(format!(
                "priority reason {reason:?}"
            ))))
        }
    };
    Ok(Ok(PendingBooking {
        idempotency_key: row.get(0)?,
        session_id: row.get(1)?,
        patient_id: row.get(2)?,
        priority_reason,
    }))
}

/// Reads one `prescription` list row; unreadable times or status are corrupt data.
fn prescription_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<Result<PrescriptionRow, Error>> {
    let status: String = row.get(6)?;
    let medicines: String = row.get(7)?;
    let times: [String; 3] = [row.get(8)?, row.get(9)?, row.get(10)?];
    let (id, patient_id, code) = (row.get(0)?, row.get(1)?, row.get(2)?);
    let (patient_name, doctor_name, opd_name) = (row.get(3)?, row.get(4)?, row.get(5)?);
    Ok((|| {
        Ok(PrescriptionRow {
            id,
            patient_id,
            code,
            patient_name,
            doctor_name,
            opd_name,
            status: parse_status(&status)?,
            medicines: medicines.lines().map(str::to_owned).collect(),
            issued_at: parse_time(&times[0])?,
            valid_until: parse_time(&times[1])?,
            synced_at: parse_time(&times[2])?,
        })
    })())
}

/// A prescription status as stored: its API name (`partly_dispensed`).
fn status_text(status: PrescriptionStatus) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(text)) => text,
        _ => unreachable!("a unit enum serialises to its name"),
    }
}

fn parse_status(text: &str) -> Result<PrescriptionStatus, Error> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| Error::CorruptLocalData(format!("prescription status {text:?}")))
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|e| Error::CorruptLocalData(format!("time {text:?}: {e}")))
}

fn now() -> String {
    Utc::now().to_rfc3339()
}

fn to_json<T: Serialize>(value: &T) -> String {
    // The stored types hold only strings, numbers and dates: serialising cannot fail.
    serde_json::to_string(value).expect("stored values serialise")
}

fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| Error::CorruptLocalData(e.to_string()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use crate::secrets::SecretStore;
    use sanjeevani_types::domain::{Language, Role, Sex};

    use super::*;

    fn me(id: &str) -> Me {
        Me {
            id: id.into(),
            role: Role::Patient,
            name: String::new(),
            phone: Some("+919876543210".into()),
            email: None,
            username: None,
            facility_id: None,
            state_code: None,
        }
    }

    fn issued(token: &str, user_id: &str) -> SessionIssued {
        SessionIssued {
            token: token.into(),
            session_id: format!("s-{token}"),
            expires_at: Utc.with_ymd_and_hms(2026, 12, 23, 3, 30, 0).unwrap(),
            user: me(user_id),
            pending_walk_ins: None,
        }
    }

    fn patient(id: &str, name: &str) -> Patient {
        Patient {
            id: id.into(),
            name: name.into(),
            sex: Sex::Female,
            birth_date: None,
            birth_year: 1990,
            age_years: 36,
            preferred_language: Language::Bn,
            abha_number: None,
            abha_address: None,
            relation: "self".into(),
            created_at: Utc.with_ymd_and_hms(2026, 11, 23, 3, 30, 0).unwrap(),
        }
    }

    #[test]
    fn a_new_store_is_at_the_latest_schema_version() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(store.session().unwrap(), None);
        assert!(store.family().unwrap().is_empty());
    }

    #[test]
    fn a_session_is_saved_read_and_forgotten() {
        let store = Store::open_in_memory().unwrap();
        store.save_session(&issued("t1", "u1")).unwrap();
        let session = store.session().unwrap().expect("stored");
        assert_eq!(session.token, "t1");
        assert_eq!(session.user.id, "u1");
        assert_eq!(session.expires_at, issued("t1", "u1").expires_at);

        store.forget_session_with_token("another").unwrap();
        assert!(store.session().unwrap().is_some(), "only the refused token");
        store.forget_session_with_token("t1").unwrap();
        assert_eq!(store.session().unwrap(), None);
    }

    /// An app's secret store, in memory.
    #[derive(Default)]
    struct Keychain(Mutex<std::collections::HashMap<String, String>>);

    impl crate::secrets::SecretStore for Keychain {
        fn read(&self, key: String) -> Option<String> {
            self.0.lock().unwrap().get(&key).cloned()
        }
        fn write(&self, key: String, value: String) {
            self.0.lock().unwrap().insert(key, value);
        }
        fn delete(&self, key: String) {
            self.0.lock().unwrap().remove(&key);
        }
    }

    #[test]
    fn with_the_apps_secret_store_the_token_never_reaches_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let keychain = std::sync::Arc::new(Keychain::default());
        let vault = || TokenVault::App(keychain.clone());
        let store = Store::open_with_vault(dir.path(), vault()).unwrap();
        store.save_session(&issued("secret-token-1", "u1")).unwrap();
        assert_eq!(store.session().unwrap().unwrap().token, "secret-token-1");
        assert_eq!(
            keychain.read(SESSION_TOKEN_KEY.into()).as_deref(),
            Some("secret-token-1")
        );
        let row: String = store
            .connection()
            .query_row("SELECT token FROM session", [], |row| row.get(0))
            .unwrap();
        assert_eq!(row, "");
        // Without the app's store the session cannot be used, but who it is stays readable.
        let plain = Store::open(dir.path()).unwrap();
        assert_eq!(plain.session().unwrap(), None);
        assert_eq!(plain.signed_in_user().unwrap().unwrap().0.id, "u1");

        store.forget_session_with_token("secret-token-1").unwrap();
        assert_eq!(store.session().unwrap(), None);
        assert_eq!(keychain.read(SESSION_TOKEN_KEY.into()), None);
    }

    #[test]
    fn a_token_kept_in_the_file_moves_into_the_apps_secret_store() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path())
            .unwrap()
            .save_session(&issued("old-token", "u1"))
            .unwrap();
        let keychain = std::sync::Arc::new(Keychain::default());
        let store = Store::open_with_vault(dir.path(), TokenVault::App(keychain.clone())).unwrap();
        assert_eq!(store.session().unwrap().unwrap().token, "old-token");
        assert_eq!(
            keychain.read(SESSION_TOKEN_KEY.into()).as_deref(),
            Some("old-token")
        );
        assert_eq!(store.session().unwrap().unwrap().token, "old-token");
        store.forget_account().unwrap();
        assert_eq!(keychain.read(SESSION_TOKEN_KEY.into()), None);
    }

    #[test]
    fn the_family_copy_keeps_the_server_order_and_updates_in_place() {
        let store = Store::open_in_memory().unwrap();
        store
            .replace_family("u1", &[patient("p1", "Asha"), patient("p2", "সুমিতা দাস")])
            .unwrap();
        store
            .save_family_member("u1", &patient("p3", "राम"))
            .unwrap();
        store
            .save_family_member("u1", &patient("p1", "Asha Devi"))
            .unwrap();
        let names: Vec<String> = store
            .family()
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["Asha Devi", "সুমিতা দাস", "राम"]);
    }

    #[test]
    fn another_accounts_login_drops_the_previous_family_but_the_same_account_keeps_it() {
        let store = Store::open_in_memory().unwrap();
        store.save_session(&issued("t1", "u1")).unwrap();
        store
            .replace_family("u1", &[patient("p1", "Asha")])
            .unwrap();
        store.save_session(&issued("t2", "u1")).unwrap();
        assert_eq!(store.family().unwrap().len(), 1);
        store.save_session(&issued("t3", "u2")).unwrap();
        assert!(store.family().unwrap().is_empty());
    }

    #[test]
    fn logout_forgets_session_and_family() {
        let store = Store::open_in_memory().unwrap();
        store.save_session(&issued("t1", "u1")).unwrap();
        store
            .replace_family("u1", &[patient("p1", "Asha")])
            .unwrap();
        store.forget_account().unwrap();
        assert_eq!(store.session().unwrap(), None);
        assert!(store.family().unwrap().is_empty());
    }

    #[test]
    fn data_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.save_session(&issued("t1", "u1")).unwrap();
            store
                .replace_family("u1", &[patient("p1", "সুমিতা দাস")])
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.session().unwrap().unwrap().token, "t1");
        assert_eq!(store.family().unwrap()[0].name, "সুমিতা দাস");
    }

    #[test]
    fn an_upgrade_applies_only_the_new_migrations_and_keeps_user_data() {
        let mut connection = Connection::open_in_memory().unwrap();
        let v1 = ["CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"];
        migrate(&mut connection, &v1).unwrap();
        connection
            .execute("INSERT INTO note (text) VALUES ('kept')", [])
            .unwrap();

        // The next app version adds a column; the first migration must not run again (it
        // would fail: the table exists).
        let v2 = [
            v1[0],
            "ALTER TABLE note ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;",
        ];
        migrate(&mut connection, &v2).unwrap();
        assert_eq!(schema_version(&connection).unwrap(), 2);
        let (text, pinned): (String, i64) = connection
            .query_row("SELECT text, pinned FROM note", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((text.as_str(), pinned), ("kept", 0));
    }

    #[test]
    fn a_failing_migration_leaves_the_file_at_its_previous_version() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrate(
            &mut connection,
            &["CREATE TABLE note (id INTEGER PRIMARY KEY);"],
        )
        .unwrap();
        let broken = [
            "CREATE TABLE note (id INTEGER PRIMARY KEY);",
            "CREATE TABLE other (id INTEGER); SELECT * FROM missing_table;",
        ];
        assert!(migrate(&mut connection, &broken).is_err());
        assert_eq!(schema_version(&connection).unwrap(), 1);
        let other_exists: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'other'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(other_exists, 0, "the half-done migration was rolled back");
    }

    #[test]
    fn a_version_1_file_upgrades_keeping_the_session_and_family() {
        let dir = tempfile::tempdir().unwrap();
        {
            // The first released app: only migration 0001, with a signed-in user, written with
            // that version's statements.
            let mut connection = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            migrate(&mut connection, &MIGRATIONS[..1]).unwrap();
            assert_eq!(schema_version(&connection).unwrap(), 1);
            let session = issued("t1", "u1");
            connection
                .execute(
                    "INSERT INTO session (id, token, session_id, expires_at, user_json, saved_at)
                     VALUES (1, ?1, ?2, ?3, ?4, ?5)",
                    params![
                        session.token,
                        session.session_id,
                        session.expires_at.to_rfc3339(),
                        to_json(&session.user),
                        now()
                    ],
                )
                .unwrap();
            connection
                .execute(
                    "INSERT INTO family_member (id, account_id, position, patient_json, fetched_at)
                     VALUES ('p1', 'u1', 0, ?1, ?2)",
                    params![to_json(&patient("p1", "সুমিতা দাস")), now()],
                )
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap() as usize, MIGRATIONS.len());
        assert_eq!(store.session().unwrap().unwrap().token, "t1");
        assert_eq!(store.family().unwrap()[0].name, "সুমিতা দাস");
        assert!(store.pending_bookings().unwrap().is_empty());
        assert_eq!(store.queue_status("tok").unwrap(), None);
        assert!(store.prescription_rows().unwrap().is_empty());
        assert!(store.issuer_keys().unwrap().is_empty());
    }

    fn status(token_id: &str, position: i32) -> QueueStatus {
        QueueStatus {
            token_id: token_id.into(),
            display: "AC-001".into(),
            status: sanjeevani_types::queue::TokenStatus::Waiting,
            position: Some(position),
            now_serving: vec![],
            waiting: position + 1,
            doctors_online: 1,
            expected_wait_minutes: Some(5),
            join_deadline: None,
            turn_near: false,
            as_of: Utc.with_ymd_and_hms(2026, 11, 23, 3, 30, 0).unwrap(),
        }
    }

    #[test]
    fn a_second_attempt_for_the_same_person_and_session_reuses_the_key() {
        let store = Store::open_in_memory().unwrap();
        let first = store
            .pending_booking_for("u1", "s1", "p1", Some(PriorityReason::Pregnant), "k1")
            .unwrap();
        assert_eq!(first.idempotency_key, "k1");
        let again = store
            .pending_booking_for("u1", "s1", "p1", None, "k2")
            .unwrap();
        assert_eq!(again, first, "the first attempt's key and request");
        let other = store
            .pending_booking_for("u1", "s1", "p2", None, "k3")
            .unwrap();
        assert_eq!(other.idempotency_key, "k3");
        assert_eq!(store.pending_bookings().unwrap().len(), 2);
        store.forget_pending_booking("k1").unwrap();
        assert_eq!(store.pending_bookings().unwrap(), [other]);
    }

    #[test]
    fn the_queue_status_cache_keeps_the_latest_with_its_etag() {
        let store = Store::open_in_memory().unwrap();
        store
            .save_queue_status("u1", &status("t1", 3), Some("W/\"a\""))
            .unwrap();
        store
            .save_queue_status("u1", &status("t1", 2), Some("W/\"b\""))
            .unwrap();
        let cached = store.queue_status("t1").unwrap().unwrap();
        assert_eq!(cached.status.position, Some(2));
        assert_eq!(cached.etag.as_deref(), Some("W/\"b\""));
    }

    #[test]
    fn logout_and_another_accounts_login_drop_bookings_and_statuses() {
        let store = Store::open_in_memory().unwrap();
        store.save_session(&issued("t1", "u1")).unwrap();
        store
            .pending_booking_for("u1", "s1", "p1", None, "k1")
            .unwrap();
        store
            .save_queue_status("u1", &status("t1", 3), None)
            .unwrap();
        store.save_session(&issued("t2", "u1")).unwrap();
        assert_eq!(store.pending_bookings().unwrap().len(), 1);
        store.save_session(&issued("t3", "u2")).unwrap();
        assert!(store.pending_bookings().unwrap().is_empty());
        assert_eq!(store.queue_status("t1").unwrap(), None);

        store
            .pending_booking_for("u2", "s1", "p9", None, "k9")
            .unwrap();
        store.forget_account().unwrap();
        assert!(store.pending_bookings().unwrap().is_empty());
    }

    #[test]
    fn a_file_from_a_newer_app_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let connection = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            connection.pragma_update(None, "user_version", 99).unwrap();
        }
        let error = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(error, Error::DatabaseTooNew { found: 99, .. }),
            "{error:?}"
        );
    }
}
