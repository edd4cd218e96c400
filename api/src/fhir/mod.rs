//! FHIR R4 documents for ABDM: a consultation as an NRCeS `OPConsultRecord` and a prescription
//! as a `PrescriptionRecord`, each a `document` Bundle, following the NRCeS implementation
//! guide for ABDM (`ndhm.in`, version [`GUIDE_VERSION`]).
//!
//! Pure functions of the records (no database, no clock): [`crate::services::fhir`] loads what
//! they need through the models and applies the JSON API's access rules first. Every resource
//! gets a name-based UUID (v5) of the record it comes from, so the same record always gives the
//! same `urn:uuid:` and every reference resolves inside its bundle.
//!
//! Codes: only what the record holds is coded. The ICD-10 code the doctor gave codes the
//! diagnosis; each vital sign, whose meaning our schema fixes (`systolic_mmhg`), carries its
//! LOINC code and UCUM unit; the document and section types are the ones the guide fixes.
//! Everything else (complaints, history, examination, medicines, dosage, investigations) is
//! text, as written: a code we do not have is never made up.

mod clinical;
mod envelope;
mod medication;
mod op_consult;
mod participants;
mod prescription;
pub mod profiles;

pub use envelope::{collection, document_checks, resource_id, DocumentError};
pub use op_consult::{op_consult_record, ConsultationRecord};
pub use prescription::{prescription_record, PrescriptionRecord};

/// The NRCeS FHIR implementation guide for ABDM these documents follow.
pub const GUIDE_VERSION: &str = "6.5.0";

/// The media type of every FHIR answer.
pub const MEDIA_TYPE: &str = "application/fhir+json";
