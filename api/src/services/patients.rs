//! A patient account's family: the account holder and the members under the same login.

use chrono::{Datelike, NaiveDate};
use sanjeevani_types::domain::{AbhaNumber, BoundedText, Language, Sex};
use sanjeevani_types::patient::{Patient, PatientInput};

use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::clock::IST;
use crate::models::patients::{self, NewPatient, PatientFields, PatientRow};
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
    pub relation: BoundedText,
}

impl PatientProfile {
    /// Validates a profile as of `today` (IST).
    pub fn parse(input: &PatientInput, today: NaiveDate) -> Result<Self, ValidationError> {
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

pub fn to_api(row: PatientRow, today: NaiveDate) -> Patient {
    Patient {
        age_years: age_on(row.birth_date, row.birth_year, today),
        id: row.id,
        name: row.name,
        sex: Sex::parse(&row.sex).unwrap_or(Sex::Other),
        birth_date: row.birth_date,
        birth_year: row.birth_year,
        preferred_language: Language::parse(&row.preferred_language).unwrap_or(Language::En),
        abha_number: row.abha_number,
        relation: row.relation,
        created_at: utc(row.created_at),
    }
}

pub(super) fn today_ist(state: &AppState) -> NaiveDate {
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
    Ok(rows.into_iter().map(|row| to_api(row, today)).collect())
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
    let profile = PatientProfile::parse(&input, today)?;
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
            NewPatient {
                id: &id,
                account_id: Some(&account),
                registered_by: Some(&account),
                registered_facility_id: None,
                phone: None,
                created_at: now,
                fields: fields_of(&profile, &relation, now),
            }
            .insert(conn)?;
            if relation == SELF {
                users::set_name(conn, &account, profile.name.as_ref(), now)?;
            }
            patients::find(conn, &id)?.ok_or(ServiceError::NotFound("patient"))
        })
        .await?;
    Ok(to_api(row, today))
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
        Some(row) if principal.may_view_patient(&row) => Ok(to_api(row, today_ist(state))),
        // Someone else's record answers exactly like a missing one.
        _ => Err(ServiceError::NotFound("patient")),
    }
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: String,
    input: PatientInput,
) -> Result<Patient, ServiceError> {
    let today = today_ist(state);
    let profile = PatientProfile::parse(&input, today)?;
    let requested = requested_relation(&input, &profile);
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<PatientRow, ServiceError> {
            let row = patients::find(conn, &id)?
                .filter(|row| principal.may_edit_patient(row))
                .ok_or(ServiceError::NotFound("patient"))?;
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
            patients::update(conn, &id, &fields_of(&profile, &relation, now))?;
            if relation == SELF {
                if let Some(account) = &row.account_id {
                    users::set_name(conn, account, profile.name.as_ref(), now)?;
                }
            }
            patients::find(conn, &id)?.ok_or(ServiceError::NotFound("patient"))
        })
        .await?;
    Ok(to_api(row, today))
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
