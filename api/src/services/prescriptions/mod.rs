//! Consultation records and signed e-prescriptions: the doctor records and prescribes; the
//! patient's family reads; a pharmacist verifies (by code or QR payload) and dispenses, partly
//! or fully, never beyond what was prescribed; the issuing doctor may cancel before dispensing.
//! Every staff read of a record or prescription, and every issue, cancel and dispense, goes to
//! the audit trail (who, when, which record, from where; no clinical details).

mod consultations;
mod dispensing;
mod issuing;
mod keys;
mod reading;

pub use consultations::*;
pub use dispensing::*;
pub use issuing::*;
pub use keys::*;
pub use reading::*;

use chrono::NaiveDateTime;
use sanjeevani_types::domain::Role;
use sanjeevani_types::prescription::{
    Dispensation, Item, ItemInput, Prescription, PrescriptionStatus,
};
use sanjeevani_types::rx::{self, Claims};

use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::prescriptions::{self as rx_db, DispensationRow, ItemRow, PrescriptionRow};
use crate::models::{audit, facilities, patients};

/// Default days a prescription can be dispensed.
pub const DEFAULT_VALIDITY_DAYS: i32 = 30;

/// The most medicines on one prescription (and what one QR code carries comfortably).
pub const MAX_ITEMS: usize = 20;

/// The most units of one medicine prescribed, and so dispensed in one go.
pub const MAX_ITEM_QUANTITY: i32 = 10_000;

/// The issuer named in every signed payload.
pub const ISSUER: &str = "https://sanjeevani.gov.in";

/// Everything shown about a prescription, loaded together.
pub(crate) struct Loaded {
    pub(crate) row: PrescriptionRow,
    pub(crate) items: Vec<ItemRow>,
    pub(crate) dispensed: Vec<DispensationRow>,
    pub(crate) claims: Claims,
}

impl Loaded {
    /// When the prescription last changed: issued, dispensed or cancelled.
    pub(crate) fn last_changed(&self) -> NaiveDateTime {
        self.dispensed
            .iter()
            .map(|d| d.dispensed_at)
            .chain(self.row.cancelled_at)
            .chain([self.row.issued_at])
            .max()
            .unwrap_or(self.row.issued_at)
    }
}

pub(crate) fn load(conn: &mut DbConnection, row: PrescriptionRow) -> Result<Loaded, ServiceError> {
    let items = rx_db::items(conn, &row.id)?;
    let dispensed = rx_db::dispensations(conn, &row.id)?;
    // Our own stored payload: it carries the names as signed, so decode it (no need to
    // re-verify a signature we made, once per read).
    let claims = rx::decode_claims(&row.signed_payload).map_err(|e| {
        ServiceError::Store(crate::db::StoreError::Unavailable(format!(
            "stored prescription: {e}"
        )))
    })?;
    Ok(Loaded {
        row,
        items,
        dispensed,
        claims,
    })
}

pub(crate) fn status_of(loaded: &Loaded, now: NaiveDateTime) -> PrescriptionStatus {
    let dispensed: i32 = loaded.items.iter().map(|i| i.dispensed_quantity).sum();
    if loaded.row.cancelled_at.is_some() {
        PrescriptionStatus::Cancelled
    } else if loaded.row.fully_dispensed_at.is_some() {
        PrescriptionStatus::Dispensed
    } else if loaded.row.valid_until <= now {
        PrescriptionStatus::Expired
    } else if dispensed > 0 {
        PrescriptionStatus::PartlyDispensed
    } else {
        PrescriptionStatus::Issued
    }
}

fn item_input(item: &ItemRow) -> ItemInput {
    ItemInput {
        medicine: item.medicine.clone(),
        form: item.form.clone(),
        strength: item.strength.clone(),
        dose: item.dose.clone(),
        frequency: item.frequency.clone(),
        timing: item.timing.clone(),
        route: item.route.clone(),
        duration_days: item.duration_days,
        quantity: item.quantity,
        instructions: item.instructions.clone(),
    }
}

fn to_prescription(
    conn: &mut DbConnection,
    loaded: Loaded,
    now: NaiveDateTime,
) -> Result<Prescription, ServiceError> {
    // One lookup per pharmacy, not per dispensation.
    let mut pharmacy_names = std::collections::HashMap::new();
    for d in &loaded.dispensed {
        if !pharmacy_names.contains_key(&d.pharmacy_id) {
            let name = facilities::find(conn, &d.pharmacy_id)?
                .map(|f| f.name)
                .unwrap_or_default();
            pharmacy_names.insert(d.pharmacy_id.clone(), name);
        }
    }
    let mut items = Vec::new();
    for item in &loaded.items {
        let mut dispensations = Vec::new();
        for d in loaded.dispensed.iter().filter(|d| d.item_id == item.id) {
            dispensations.push(Dispensation {
                pharmacy_id: d.pharmacy_id.clone(),
                pharmacy_name: pharmacy_names[&d.pharmacy_id].clone(),
                quantity: d.quantity,
                dispensed_at: utc(d.dispensed_at),
            });
        }
        items.push(Item {
            id: item.id.clone(),
            prescribed: item_input(item),
            dispensed_quantity: item.dispensed_quantity,
            dispensations,
        });
    }
    let claims = &loaded.claims;
    Ok(Prescription {
        id: loaded.row.id.clone(),
        code: loaded.row.code.clone(),
        status: status_of(&loaded, now),
        consultation_id: loaded.row.consultation_id.clone(),
        patient_id: loaded.row.patient_id.clone(),
        patient_name: claims.pn.clone(),
        patient_age_years: claims.pa,
        patient_sex: claims.patient_sex(),
        doctor_name: claims.dn.clone(),
        doctor_registration: claims.dr.clone(),
        opd_name: claims.opd.clone(),
        hub_name: claims.hub.clone(),
        issued_at: utc(loaded.row.issued_at),
        valid_until: utc(loaded.row.valid_until),
        cancelled_reason: loaded.row.cancel_reason.clone(),
        items,
        qr_text: rx::to_qr_text(&loaded.row.signed_payload),
        signed_payload: loaded.row.signed_payload.clone(),
    })
}

/// Who may read a consultation record or a prescription in full: the patient's family and the
/// doctor who wrote it.
pub(crate) fn may_read(
    conn: &mut DbConnection,
    principal: &Principal,
    patient_id: &str,
    doctor_id: &str,
) -> Result<bool, ServiceError> {
    Ok(match principal.role {
        Role::Patient => {
            patients::find(conn, patient_id)?.is_some_and(|p| principal.may_view_patient(&p))
        }
        Role::Doctor => doctor_id == principal.user_id,
        _ => false,
    })
}

/// Records a staff member's read of a health record (a patient reading their own is not).
pub(crate) fn audit_staff_read(
    conn: &mut DbConnection,
    principal: &Principal,
    action: &str,
    subject_id: &str,
    detail: &str,
    client_ip: &str,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    if principal.role != Role::Patient {
        audit::record_from(
            conn,
            now,
            Some(&principal.user_id),
            action,
            Some(subject_id),
            detail,
            Some(client_ip),
        )?;
    }
    Ok(())
}

/// A health record read in full (JSON or FHIR): `consultation` or `prescription`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Consultation,
    Prescription,
}

impl RecordKind {
    fn name(self) -> &'static str {
        match self {
            RecordKind::Consultation => "consultation",
            RecordKind::Prescription => "prescription",
        }
    }
}

/// The one rule for reading a consultation record or a prescription in full, whatever the
/// form (JSON, FHIR): [`may_read`], else "not found" (someone else's record answers as a
/// missing one); a staff read goes to the audit trail (`consultation.read`,
/// `prescription.read`). Break-glass reads are their own, flagged, path ([`reading`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn admit_read(
    conn: &mut DbConnection,
    principal: &Principal,
    kind: RecordKind,
    id: &str,
    patient_id: &str,
    doctor_id: &str,
    client_ip: &str,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    if !may_read(conn, principal, patient_id, doctor_id)? {
        return Err(ServiceError::NotFound(kind.name()));
    }
    audit_staff_read(
        conn,
        principal,
        &format!("{}.read", kind.name()),
        id,
        "",
        client_ip,
        now,
    )
}

/// The prescription if the caller may read it (else "not found"); a staff read is audited.
pub(crate) fn readable(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    client_ip: &str,
    now: NaiveDateTime,
) -> Result<PrescriptionRow, ServiceError> {
    let row = rx_db::find(conn, id)?.ok_or(ServiceError::NotFound("prescription"))?;
    admit_read(
        conn,
        principal,
        RecordKind::Prescription,
        &row.id,
        &row.patient_id,
        &row.doctor_id,
        client_ip,
        now,
    )?;
    Ok(row)
}

/// A time as the patient reads it, in their language and IST.
fn ist_time_for(
    conn: &mut DbConnection,
    patient_id: &str,
    at: NaiveDateTime,
) -> Result<String, ServiceError> {
    let language = patients::find(conn, patient_id)?
        .map(|p| crate::notify::i18n::Language::parse(&p.preferred_language))
        .unwrap_or(crate::notify::i18n::Language::En);
    Ok(crate::notify::i18n::format_time_ist(utc(at), language))
}
