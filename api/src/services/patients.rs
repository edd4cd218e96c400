//! A patient account's family: the account holder and the members under the same login.

use chrono::{Datelike, NaiveDate};
use sanjeevani_types::domain::{
    mask_abha_address, mask_abha_number, AbhaAddress, AbhaDomains, AbhaNumber, BoundedText,
    Language, Sex,
};
use sanjeevani_types::patient::{Patient, PatientInput};

use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::clock::IST;
use crate::config::Mode;
use crate::models::patients::{self, AbhaTaken, NewPatient, PatientFields, PatientRow};
use crate::models::users;
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};
use sanjeevani_types::domain::Role;

/// The national service lets one number carry a family; this bounds abuse of one login.
pub const MAX_FAMILY_MEMBERS: i64 = 10;

/// The oldest age a profile may give: older birth years are typing mistakes.
const MAX_AGE_YEARS: i32 = 130;

/// A validated profile.
#[derive(Debug, Clone)]
pub struct PatientProfile {
    pub name: BoundedText,
    pub sex: Sex,
    pub birth_date: Option<NaiveDate>,
    pub birth_year: i32,
    pub preferred_language: Language,
    pub abha_number: Option<AbhaNumber>,
    pub abha_address: Option<AbhaAddress>,
    pub relation: BoundedText,
}

/// The ABHA addresses this deployment takes: ABDM's sandbox (`@sbx`) only off production.
pub fn abha_domains(state: &AppState) -> AbhaDomains {
    match state.settings.mode {
        Mode::Production => AbhaDomains::Production,
        Mode::Dev | Mode::Demo => AbhaDomains::WithSandbox,
    }
}

impl PatientProfile {
    /// Validates a profile as of `today` (IST); `domains` says whether sandbox ABHA addresses
    /// are taken ([`abha_domains`]).
    pub fn parse(
        input: &PatientInput,
        today: NaiveDate,
        domains: AbhaDomains,
    ) -> Result<Self, ValidationError> {
        let mut fields = Fields::new();
        let name = fields.check("name", BoundedText::parse(&input.name, 100));
        let relation = fields.check(
            "relation",
            BoundedText::parse(input.relation.as_deref().unwrap_or("self"), 40),
        );
        let abha = fields.check_optional(
            "abha_number",
            input.abha_number.as_deref(),
            AbhaNumber::parse,
        );
        let abha_address =
            fields.check_optional("abha_address", input.abha_address.as_deref(), |text| {
                AbhaAddress::parse(text, domains)
            });
        let birth_year = match (input.birth_date, input.birth_year) {
            (Some(date), _) if date > today => {
                fields.add("birth_date", "in_future", "cannot be in the future");
                None
            }
            (Some(date), Some(year)) if date.year() != year => {
                fields.add("birth_year", "mismatch", "does not match birth_date");
                None
            }
            (Some(date), _) if date.year() < today.year() - MAX_AGE_YEARS => {
                fields.add("birth_date", "out_of_range", "is more than 130 years ago");
                None
            }
            (Some(date), _) => Some(date.year()),
            // Compared, never subtracted: any i32 a client sends is safe here.
            (None, Some(year)) => fields.within(
                "birth_year",
                year,
                today.year() - MAX_AGE_YEARS..=today.year(),
            ),
            (None, None) => {
                fields.add("birth_date", "required", "give birth_date or birth_year");
                None
            }
        };
        fields.finish(|| PatientProfile {
            name: name.expect("checked"),
            sex: input.sex,
            birth_date: input.birth_date,
            birth_year: birth_year.expect("checked"),
            preferred_language: input.preferred_language,
            abha_number: abha,
            abha_address,
            relation: relation.expect("checked"),
        })
    }
}

/// The relation the caller gave, if any (the profile itself defaults to `self`): left out, an
/// account's first profile is `self` and an edited member keeps its own.
fn requested_relation(input: &PatientInput, profile: &PatientProfile) -> Option<String> {
    input
        .relation
        .is_some()
        .then(|| profile.relation.as_ref().to_owned())
}

/// Age in whole years on `today`; from the year alone when the date is unknown.
pub fn age_on(birth_date: Option<NaiveDate>, birth_year: i32, today: NaiveDate) -> i32 {
    match birth_date {
        Some(date) => {
            let before_birthday = (today.month(), today.day()) < (date.month(), date.day());
            (today.year() - date.year() - i32::from(before_birthday)).max(0)
        }
        // Saturating: a row stored before birth years were range-checked cannot panic a read.
        None => today.year().saturating_sub(birth_year),
    }
}

/// How a patient's ABHA identifiers are shown to a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbhaView {
    /// The patient's family and the treating doctor.
    Full,
    /// Everyone else who may see the profile (the CHO of a walk-in, an administrator).
    Masked,
}

impl AbhaView {
    /// Full for the account the patient belongs to; masked for anyone else.
    pub fn for_reader(principal: &Principal, row: &PatientRow) -> Self {
        if principal.role == Role::Patient
            && row.account_id.as_deref() == Some(principal.user_id.as_str())
        {
            AbhaView::Full
        } else {
            AbhaView::Masked
        }
    }
}

pub fn to_api(row: PatientRow, today: NaiveDate, view: AbhaView) -> Patient {
    let (abha_number, abha_address) = match view {
        AbhaView::Full => (row.abha_number, row.abha_address),
        AbhaView::Masked => (
            row.abha_number.as_deref().map(mask_abha_number),
            row.abha_address.as_deref().map(mask_abha_address),
        ),
    };
    Patient {
        age_years: age_on(row.birth_date, row.birth_year, today),
        id: row.id,
        name: row.name,
        sex: Sex::parse(&row.sex).unwrap_or(Sex::Other),
        birth_date: row.birth_date,
        birth_year: row.birth_year,
        preferred_language: Language::parse(&row.preferred_language).unwrap_or(Language::En),
        abha_number,
        abha_address,
        relation: row.relation,
        created_at: utc(row.created_at),
    }
}

pub(crate) fn today_ist(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&IST).date_naive()
}

pub async fn list_family(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<Patient>, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let account = principal.user_id.clone();
    let rows = state
        .db
        .read(move |conn| patients::list_for_account(conn, &account).map_err(ServiceError::from))
        .await?;
    let today = today_ist(state);
    Ok(rows
        .into_iter()
        .map(|row| to_api(row, today, AbhaView::Full))
        .collect())
}

/// Adds a person to the caller's family. The first person added is the account holder
/// (`self`); their name becomes the account's name.
pub async fn add_member(
    state: &AppState,
    principal: &Principal,
    input: PatientInput,
) -> Result<Patient, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let today = today_ist(state);
    let profile = PatientProfile::parse(&input, today, abha_domains(state))?;
    let requested = requested_relation(&input, &profile);
    let account = principal.user_id.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<PatientRow, ServiceError> {
            users::lock_for_family_change(conn, &account, now)?;
            // The first person added is the account holder, whatever the relation says.
            let first = check_room_in_family(conn, &account)? == 0;
            let requested = if first {
                Some(SELF)
            } else {
                requested.as_deref()
            };
            let relation = relation_in_family(conn, &account, requested)?;
            let id = new_id();
            check_abha_free(conn, &profile, None)?;
            NewPatient {
                id: &id,
                account_id: Some(&account),
                registered_by: Some(&account),
                registered_facility_id: None,
                phone: None,
                created_at: now,
                fields: fields_of(&profile, &relation, now),
            }
            .insert(conn)
            .map_err(abha_conflict)?;
            if relation == SELF {
                users::set_name(conn, &account, profile.name.as_ref(), now)?;
            }
            patients::find(conn, &id)?.ok_or(ServiceError::NotFound("patient"))
        })
        .await?;
    Ok(to_api(row, today, AbhaView::Full))
}

pub async fn get(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<Patient, ServiceError> {
    let row = state
        .db
        .read(move |conn| patients::find(conn, &id).map_err(ServiceError::from))
        .await?;
    match row {
        Some(row) if principal.may_view_patient(&row) => {
            let view = AbhaView::for_reader(principal, &row);
            Ok(to_api(row, today_ist(state), view))
        }
        // Someone else's record answers exactly like a missing one.
        _ => Err(ServiceError::NotFound("patient")),
    }
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: String,
    mut input: PatientInput,
) -> Result<Patient, ServiceError> {
    let today = today_ist(state);
    // A reader who sees the ABHA masked (a CHO editing a walk-in) sends it back masked: that
    // keeps what is stored, checked against the row below.
    let masked_number = input.abha_number.take_if(|n| n.trim().starts_with("XX-"));
    let masked_address = input.abha_address.take_if(|a| a.trim().contains("***@"));
    let mut profile = PatientProfile::parse(&input, today, abha_domains(state))?;
    let requested = requested_relation(&input, &profile);
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let (row, view) = state
        .db
        .write(
            move |conn| -> Result<(PatientRow, AbhaView), ServiceError> {
                let row = patients::find(conn, &id)?
                    .filter(|row| principal.may_edit_patient(row))
                    .ok_or(ServiceError::NotFound("patient"))?;
                keep_masked(&mut profile, &row, masked_number, masked_address)?;
                // The account holder stays `self`; another member keeps its relation unless a new
                // one is given, and becomes `self` only in an account without one. A walk-in
                // without an account takes what the CHO records.
                let relation = match (&row.account_id, &requested) {
                    (Some(_), _) if row.relation == SELF => SELF.to_owned(),
                    (Some(_), None) => row.relation.clone(),
                    (Some(account), Some(requested)) => {
                        users::lock_for_family_change(conn, account, now)?;
                        relation_in_family(conn, account, Some(requested))?
                    }
                    (None, _) => profile.relation.as_ref().to_owned(),
                };
                check_abha_free(conn, &profile, Some(&id))?;
                patients::update(conn, &id, &fields_of(&profile, &relation, now))
                    .map_err(abha_conflict)?;
                if relation == SELF {
                    if let Some(account) = &row.account_id {
                        users::set_name(conn, account, profile.name.as_ref(), now)?;
                    }
                }
                let row = patients::find(conn, &id)?.ok_or(ServiceError::NotFound("patient"))?;
                let view = AbhaView::for_reader(&principal, &row);
                Ok((row, view))
            },
        )
        .await?;
    Ok(to_api(row, today, view))
}

/// Puts back the stored ABHA number or address that came back masked, as it was shown; a
/// masked value that is not the stored one's mask is refused.
fn keep_masked(
    profile: &mut PatientProfile,
    row: &PatientRow,
    masked_number: Option<String>,
    masked_address: Option<String>,
) -> Result<(), ValidationError> {
    let mut fields = Fields::new();
    if let Some(masked) = masked_number {
        let stored = row
            .abha_number
            .as_deref()
            .and_then(|n| AbhaNumber::parse(n).ok());
        match stored {
            Some(number) if number.masked() == masked.trim() => profile.abha_number = Some(number),
            _ => fields.add(
                "abha_number",
                "invalid_abha_number",
                "give the whole ABHA number (a masked one only keeps the number already saved)",
            ),
        }
    }
    if let Some(masked) = masked_address {
        let stored = row.abha_address.as_deref().and_then(|a| {
            AbhaAddress::parse(a, AbhaDomains::WithSandbox)
                .ok()
                .filter(|_| mask_abha_address(a) == masked.trim())
        });
        match stored {
            Some(address) => profile.abha_address = Some(address),
            None => fields.add(
                "abha_address",
                "invalid_abha_address",
                "give the whole ABHA address (a masked one only keeps the address already saved)",
            ),
        }
    }
    fields.finish(|| ())
}

/// 409 `abha_in_use`: each ABHA number and address belongs to one person on the platform.
fn abha_in_use(taken: AbhaTaken) -> ServiceError {
    match taken {
        AbhaTaken::Number => ServiceError::conflict(
            "abha_in_use",
            "This ABHA number is already on another patient's profile.",
        ),
        AbhaTaken::Address => ServiceError::conflict(
            "abha_in_use",
            "This ABHA address is already on another patient's profile.",
        ),
    }
}

/// Refuses a profile whose ABHA number or address another patient (not `except`) holds.
pub(super) fn check_abha_free(
    conn: &mut crate::db::DbConnection,
    profile: &PatientProfile,
    except: Option<&str>,
) -> Result<(), ServiceError> {
    match patients::abha_taken(
        conn,
        profile.abha_number.as_ref().map(AsRef::as_ref),
        profile.abha_address.as_ref().map(AsRef::as_ref),
        except,
    )? {
        Some(taken) => Err(abha_in_use(taken)),
        None => Ok(()),
    }
}

/// A write refused by an ABHA unique index (a concurrent profile took it first) as 409
/// `abha_in_use`; any other error as it is.
pub(super) fn abha_conflict(error: diesel::result::Error) -> ServiceError {
    match patients::abha_violation(&error) {
        Some(taken) => abha_in_use(taken),
        None => error.into(),
    }
}

/// The relation of the account holder's own profile.
pub const SELF: &str = "self";

/// The relation a person joining (or re-labelled in) `account`'s family gets. An account has
/// at most one `self` (the unique index `patients_one_self` holds it to that): asking for a
/// second is refused with 409 `self_exists`; left out, the relation is `self` while the account
/// has none, and required after. Call it after [`users::lock_for_family_change`], so that two
/// requests cannot both take the free `self`.
pub(super) fn relation_in_family(
    conn: &mut crate::db::DbConnection,
    account: &str,
    requested: Option<&str>,
) -> Result<String, ServiceError> {
    let has_self = patients::has_self(conn, account)?;
    match requested {
        Some(text) if text.eq_ignore_ascii_case(SELF) && has_self => Err(ServiceError::conflict(
            "self_exists",
            "This account already has its holder's own profile; give this person's relation \
             to the holder (mother, son, ...).",
        )),
        Some(text) if text.eq_ignore_ascii_case(SELF) => Ok(SELF.to_owned()),
        Some(text) => Ok(text.to_owned()),
        None if has_self => Err(ValidationError::single(
            "relation",
            "required",
            "say how this person relates to the account holder",
        )
        .into()),
        None => Ok(SELF.to_owned()),
    }
}

/// Refuses a new person in a full family (409 `family_limit_reached`); else how many it holds.
pub(super) fn check_room_in_family(
    conn: &mut crate::db::DbConnection,
    account: &str,
) -> Result<i64, ServiceError> {
    let count = patients::count_for_account(conn, account)?;
    if count >= MAX_FAMILY_MEMBERS {
        return Err(ServiceError::conflict(
            "family_limit_reached",
            format!("An account can hold at most {MAX_FAMILY_MEMBERS} people."),
        ));
    }
    Ok(count)
}

fn fields_of<'a>(
    profile: &'a PatientProfile,
    relation: &'a str,
    now: chrono::NaiveDateTime,
) -> PatientFields<'a> {
    PatientFields {
        name: profile.name.as_ref(),
        sex: profile.sex.as_str(),
        birth_date: profile.birth_date,
        birth_year: profile.birth_year,
        preferred_language: profile.preferred_language.as_str(),
        abha_number: profile.abha_number.as_ref().map(AsRef::as_ref),
        abha_address: profile.abha_address.as_ref().map(AsRef::as_ref),
        relation,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn age_counts_whole_years_up_to_the_birthday() {
        assert_eq!(
            age_on(Some(date(1960, 11, 24)), 1960, date(2026, 11, 23)),
            65
        );
        assert_eq!(
            age_on(Some(date(1960, 11, 23)), 1960, date(2026, 11, 23)),
            66
        );
        assert_eq!(age_on(None, 1960, date(2026, 1, 1)), 66);
    }
}
