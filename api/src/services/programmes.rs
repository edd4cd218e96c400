//! Programmes and membership of the closed ones: a patient account claims membership with its
//! card number; the claim is verified at once when the card is on the programme's roster
//! (uploaded as CSV by a programme administrator), otherwise a programme administrator checks
//! the card and decides. A verified membership covers the account's whole family
//! (dependants). Booking an OPD of a closed programme needs it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use sanjeevani_types::domain::{BoundedText, Role};
use sanjeevani_types::programme::{
    Eligibility, MemberReview, Membership, MembershipClaim, MembershipStatus, Programme,
    ProgrammeAdministrator, ProgrammeTargets, RosterImported, TargetsReport,
};

use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::opds::{self, ProgrammeRow};
use crate::models::programmes::{self, MemberRow, CLOSED, PENDING, REJECTED, VERIFIED};
use crate::models::{audit, users};
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

/// Card numbers are compared without spaces or hyphens, in capitals.
fn normalise_card(input: &str) -> String {
    input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .flat_map(char::to_uppercase)
        .collect()
}

fn parse_card(field: &str, input: &str) -> Result<String, ValidationError> {
    let card = normalise_card(input);
    if card.len() < 4 || card.len() > 32 || !card.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ValidationError::single(
            field,
            "invalid_card_number",
            "must be 4-32 letters and digits",
        ));
    }
    Ok(card)
}

fn status_of(text: &str) -> MembershipStatus {
    match text {
        VERIFIED => MembershipStatus::Verified,
        REJECTED => MembershipStatus::Rejected,
        _ => MembershipStatus::Pending,
    }
}

fn to_membership(row: MemberRow, programme_code: &str) -> Membership {
    Membership {
        id: row.id,
        programme_code: programme_code.to_owned(),
        account_id: row.account_id,
        card_number: row.card_number,
        status: status_of(&row.status),
        decided_at: row.decided_at.map(utc),
        created_at: utc(row.created_at),
    }
}

fn eligibility_of(programme: &ProgrammeRow) -> Eligibility {
    if programme.eligibility == CLOSED {
        Eligibility::Closed
    } else {
        Eligibility::Open
    }
}

fn find_programme(conn: &mut DbConnection, code: &str) -> Result<ProgrammeRow, ServiceError> {
    opds::find_programme_by_code(conn, code)?.ok_or(ServiceError::NotFound("programme"))
}

/// Refuses a booking for a patient whose account may not use the programme: one read on the
/// booking path for an open programme, two for a closed one.
pub fn check_eligible(
    conn: &mut DbConnection,
    programme_id: &str,
    account_id: Option<&str>,
) -> Result<(), ServiceError> {
    let programme =
        opds::find_programme(conn, programme_id)?.ok_or(ServiceError::NotFound("programme"))?;
    check_eligible_for(conn, &programme, account_id)
}

/// [`check_eligible`] with the programme in hand.
pub fn check_eligible_for(
    conn: &mut DbConnection,
    programme: &opds::ProgrammeRow,
    account_id: Option<&str>,
) -> Result<(), ServiceError> {
    if programme.eligibility != CLOSED {
        return Ok(());
    }
    if let Some(account_id) = account_id {
        if programmes::is_verified_member(conn, &programme.id, account_id)? {
            return Ok(());
        }
    }
    Err(ServiceError::NotEligible(
        format!(
            "This OPD is only for members of {} and their families. Claim membership with \
             your card number; you can book once it is verified.",
            programme.name
        )
        .into(),
    ))
}

/// The programmes with the signed-in patient's membership of each.
pub async fn list_for_patient(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<Programme>, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let account = principal.user_id.clone();
    state
        .db
        .read(move |conn| -> Result<Vec<Programme>, ServiceError> {
            let usable = programmes::usable_ids(conn, Some(&account))?;
            let mut memberships: HashMap<String, MemberRow> =
                programmes::memberships_of(conn, &account)?
                    .into_iter()
                    .map(|m| (m.programme_id.clone(), m))
                    .collect();
            Ok(programmes::all(conn)?
                .into_iter()
                .map(|p| Programme {
                    may_use: usable.contains(&p.id),
                    eligibility: eligibility_of(&p),
                    membership: memberships.remove(&p.id).map(|m| to_membership(m, &p.code)),
                    code: p.code,
                    name: p.name,
                })
                .collect())
        })
        .await
}

/// A patient account claims membership of a closed programme with its card number.
pub async fn claim(
    state: &AppState,
    principal: &Principal,
    code: String,
    input: MembershipClaim,
) -> Result<Membership, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let card = parse_card("card_number", &input.card_number)?;
    let account = principal.user_id.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Membership, ServiceError> {
            let programme = find_programme(conn, &code)?;
            if programme.eligibility != CLOSED {
                return Err(ServiceError::conflict(
                    "membership_not_needed",
                    "This programme is open to everyone.",
                ));
            }
            if let Some(other) = programmes::member_by_card(conn, &programme.id, &card)? {
                if other.account_id != account {
                    return Err(ServiceError::conflict(
                        "card_already_claimed",
                        "This card number is already claimed by another account. Ask the \
                         programme's administrator for help.",
                    ));
                }
            }
            let on_roster = programmes::on_roster(conn, &programme.id, &card)?;
            let row = MemberRow {
                id: new_id(),
                programme_id: programme.id.clone(),
                account_id: account.clone(),
                card_number: card,
                status: if on_roster { VERIFIED } else { PENDING }.to_owned(),
                verified_by: None,
                decided_at: on_roster.then_some(now),
                created_at: now,
            };
            programmes::save_claim(conn, &row)?;
            Ok(to_membership(row, &programme.code))
        })
        .await
}

/// National administrators and the programme's own administrators manage its membership.
fn require_programme_admin(
    conn: &mut DbConnection,
    principal: &Principal,
    programme: &ProgrammeRow,
) -> Result<(), ServiceError> {
    if principal.require_national_admin().is_ok()
        || (principal.admin_scope().is_ok()
            && programmes::is_admin_of(conn, &programme.id, &principal.user_id)?)
    {
        return Ok(());
    }
    Err(ServiceError::Forbidden)
}

/// One roster line: `card_number,holder name` (the name may be quoted and contain commas).
/// The name follows the same text rule as every name sent as JSON ([`BoundedText`]).
fn parse_roster(csv: &str) -> Result<Vec<(String, String)>, ValidationError> {
    let mut fields = Fields::new();
    let mut lines = Vec::new();
    // Spreadsheets save "CSV UTF-8" with a byte order mark: it is not part of the header.
    let csv = csv.strip_prefix('\u{FEFF}').unwrap_or(csv);
    let mut rows = csv
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty());
    match rows.next() {
        Some((_, header))
            if header.trim().to_ascii_lowercase().replace(' ', "") == "card_number,name" => {}
        _ => {
            return Err(ValidationError::single(
                "csv",
                "invalid_header",
                "the first line must be the header `card_number,name`",
            ))
        }
    }
    for (index, line) in rows {
        let field = format!("line {}", index + 1);
        let Some((card, name)) = line.split_once(',') else {
            fields.add(&field, "missing_column", "needs a card number and a name");
            continue;
        };
        let name = name.trim().trim_matches('"');
        match (parse_card(&field, card), BoundedText::parse(name, 120)) {
            (Err(_), _) => fields.add(
                &field,
                "invalid_card_number",
                "the card number must be 4-32 letters and digits",
            ),
            (Ok(_), Err(e)) => fields.add(&field, e.code(), format!("the name {e}")),
            (Ok(card), Ok(name)) => lines.push((card, name.into_inner())),
        }
    }
    if lines.is_empty() && fields.is_ok() {
        fields.add("csv", "empty", "the roster has no rows");
    }
    if lines.len() > 100_000 {
        fields.add("csv", "too_large", "at most 100,000 rows per upload");
    }
    fields.finish(|| lines)
}

/// A programme administrator uploads the roster of card numbers the programme vouches for.
/// All or nothing: one bad line refuses the whole file, with every bad line named. Pending
/// claims whose card is now on the roster are verified.
pub async fn upload_roster(
    state: &AppState,
    principal: &Principal,
    code: String,
    csv: String,
) -> Result<RosterImported, ServiceError> {
    roster(state, principal, code, csv, false).await
}

/// What [`upload_roster`] would do with this file, changing nothing: the same checks (every
/// bad line named) and the same counts.
pub async fn roster_preview(
    state: &AppState,
    principal: &Principal,
    code: String,
    csv: String,
) -> Result<RosterImported, ServiceError> {
    roster(state, principal, code, csv, true).await
}

/// The roster upload, or (`dry_run`) the same upload in a savepoint that is rolled back, so a
/// preview can never count otherwise than the upload.
async fn roster(
    state: &AppState,
    principal: &Principal,
    code: String,
    csv: String,
    dry_run: bool,
) -> Result<RosterImported, ServiceError> {
    principal.admin_scope()?;
    let lines = parse_roster(&csv)?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<RosterImported, ServiceError> {
            if !dry_run {
                return import_roster(conn, &principal, &code, &lines, now);
            }
            use diesel::Connection;
            let mut counted = None;
            let undone = conn.transaction::<(), ServiceError, _>(|conn| {
                counted = Some(import_roster(conn, &principal, &code, &lines, now)?);
                Err(diesel::result::Error::RollbackTransaction.into())
            });
            match (counted, undone) {
                (Some(counted), _) => Ok(counted),
                (None, Err(error)) => Err(error),
                (None, Ok(())) => Err(diesel::result::Error::RollbackTransaction.into()),
            }
        })
        .await
}

fn import_roster(
    conn: &mut DbConnection,
    principal: &Principal,
    code: &str,
    lines: &[(String, String)],
    now: NaiveDateTime,
) -> Result<RosterImported, ServiceError> {
    let actor = &principal.user_id;
    let programme = find_programme(conn, code)?;
    require_programme_admin(conn, principal, &programme)?;
    let mut imported = RosterImported {
        rows: lines.len() as i32,
        added: 0,
        updated: 0,
        members_verified: 0,
    };
    for (card, name) in lines {
        if programmes::upsert_roster_line(conn, &programme.id, card, name, actor, now)? {
            imported.added += 1;
        } else {
            imported.updated += 1;
        }
    }
    for pending in programmes::members_with_status(conn, &programme.id, PENDING)? {
        if programmes::on_roster(conn, &programme.id, &pending.card_number)? {
            programmes::decide(conn, &pending.id, VERIFIED, None, now)?;
            imported.members_verified += 1;
        }
    }
    audit::record(
        conn,
        now,
        Some(actor),
        "programme.roster_uploaded",
        Some(&programme.id),
        &format!("{} rows", imported.rows),
    )?;
    Ok(imported)
}

/// Claims waiting for a programme administrator.
pub async fn pending_claims(
    state: &AppState,
    principal: &Principal,
    code: String,
) -> Result<Vec<MemberReview>, ServiceError> {
    principal.admin_scope()?;
    let principal = principal.clone();
    state
        .db
        .read(move |conn| -> Result<Vec<MemberReview>, ServiceError> {
            let programme = find_programme(conn, &code)?;
            require_programme_admin(conn, &principal, &programme)?;
            let mut reviews = Vec::new();
            for row in programmes::members_with_status(conn, &programme.id, PENDING)? {
                let account = users::find(conn, &row.account_id)?;
                reviews.push(MemberReview {
                    account_name: account.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
                    phone: account.and_then(|a| a.phone),
                    membership: to_membership(row, &programme.code),
                });
            }
            Ok(reviews)
        })
        .await
}

/// A programme administrator verifies or rejects a claim after checking the card.
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    code: String,
    membership_id: String,
    approve: bool,
) -> Result<Membership, ServiceError> {
    principal.admin_scope()?;
    let principal = principal.clone();
    let now: NaiveDateTime = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Membership, ServiceError> {
            let programme = find_programme(conn, &code)?;
            require_programme_admin(conn, &principal, &programme)?;
            programmes::member(conn, &programme.id, &membership_id)?
                .ok_or(ServiceError::NotFound("membership"))?;
            let status = if approve { VERIFIED } else { REJECTED };
            programmes::decide(conn, &membership_id, status, Some(&principal.user_id), now)?;
            audit::record(
                conn,
                now,
                Some(&principal.user_id),
                if approve {
                    "programme.member_verified"
                } else {
                    "programme.member_rejected"
                },
                Some(&membership_id),
                "",
            )?;
            let row = programmes::member(conn, &programme.id, &membership_id)?
                .ok_or(ServiceError::NotFound("membership"))?;
            Ok(to_membership(row, &programme.code))
        })
        .await
}

/// A national administrator names an administrator (any scope) as one of the programme's.
pub async fn add_administrator(
    state: &AppState,
    principal: &Principal,
    code: String,
    input: ProgrammeAdministrator,
) -> Result<(), ServiceError> {
    principal.require_national_admin()?;
    let actor = principal.user_id.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<(), ServiceError> {
            let programme = find_programme(conn, &code)?;
            let user = users::find(conn, &input.user_id)?
                .filter(|u| u.role == Role::Admin.as_str())
                .ok_or_else(|| {
                    ValidationError::single(
                        "user_id",
                        "not_an_administrator",
                        "no such administrator",
                    )
                })?;
            programmes::add_admin(conn, &programme.id, &user.id, now)?;
            audit::record(
                conn,
                now,
                Some(&actor),
                "programme.administrator_added",
                Some(&user.id),
                &programme.code,
            )?;
            Ok(())
        })
        .await
}

/// A programme administrator changes the targets its reports compare against.
pub async fn set_targets(
    state: &AppState,
    principal: &Principal,
    code: String,
    targets: ProgrammeTargets,
) -> Result<ProgrammeTargets, ServiceError> {
    principal.admin_scope()?;
    let mut fields = Fields::new();
    for (field, value) in [
        ("min_doctors_per_hub", targets.min_doctors_per_hub),
        (
            "min_consultations_per_doctor_month",
            targets.min_consultations_per_doctor_month,
        ),
    ] {
        if value.is_some_and(|v| !(1..=100_000).contains(&v)) {
            fields.add(field, "out_of_range", "must be between 1 and 100,000");
        }
    }
    fields.finish(|| ())?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<ProgrammeTargets, ServiceError> {
            let programme = find_programme(conn, &code)?;
            require_programme_admin(conn, &principal, &programme)?;
            let json = serde_json::to_string(&targets).expect("targets serialise");
            programmes::set_targets(conn, &programme.id, &json)?;
            audit::record(
                conn,
                now,
                Some(&principal.user_id),
                "programme.targets_changed",
                Some(&programme.id),
                &json,
            )?;
            Ok(targets)
        })
        .await
}

/// The programme's figures on an IST day against its targets: doctors logged in per hub that
/// day, and each doctor's completed consultations from the 1st of the month to that day. A
/// sensitive programme's counts under 5 are suppressed.
pub async fn targets_report(
    state: &AppState,
    principal: &Principal,
    code: String,
    on: Option<chrono::NaiveDate>,
) -> Result<TargetsReport, ServiceError> {
    principal.admin_scope()?;
    let principal = principal.clone();
    let today = crate::queue::schedule::today_ist(state.clock.now());
    let on = on.unwrap_or(today);
    let mut fields = Fields::new();
    fields.within("on", on, super::reports::report_days(today));
    fields.finish(|| ())?;
    state
        .db
        .read(move |conn| -> Result<TargetsReport, ServiceError> {
            let programme = find_programme(conn, &code)?;
            require_programme_admin(conn, &principal, &programme)?;
            let (targets, hubs, doctors) =
                super::reports::programme_targets(conn, &principal, &programme.code, on)?;
            Ok(TargetsReport {
                programme_code: programme.code,
                on,
                targets,
                hubs,
                doctors,
            })
        })
        .await
}

/// Every programme's (code, name), for choosing one on a report.
pub async fn codes_and_names(state: &AppState) -> Result<Vec<(String, String)>, ServiceError> {
    state
        .db
        .read(|conn| programmes::codes_and_names(conn).map_err(ServiceError::from))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roster_names_every_bad_line_and_accepts_quoted_names() {
        let good =
            "card_number,name\nSVC-1234 56,\"Havildar Ram Singh, Retd\"\n\nVET99887,Asha Devi\n";
        assert_eq!(
            parse_roster(good).unwrap(),
            vec![
                ("SVC123456".into(), "Havildar Ram Singh, Retd".into()),
                ("VET99887".into(), "Asha Devi".into())
            ]
        );
        let bad = "card_number,name\nSVC123456,Ram\nx,Asha\nVET99887\nVET12345,\n";
        let error = parse_roster(bad).unwrap_err();
        let named: Vec<&str> = error.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["line 3", "line 4", "line 5"]);
        assert!(parse_roster("card,name\nSVC123456,Ram").is_err());
    }
}
