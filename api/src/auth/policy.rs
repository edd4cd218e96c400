//! The authorisation rules, in one place: role, ownership and scope.
//!
//! - Role: each endpoint states which roles may call it ([`Principal::require_role`]).
//! - Ownership: a patient account reaches only the patients under it (its family)
//!   ([`Principal::may_view_patient`]). Records a caller may not see are answered as not found,
//!   so their existence is not revealed.
//! - Scope: an administrator is national, of one state, or of one facility
//!   ([`Principal::admin_scope`], [`AdminScope::covers`]).

use sanjeevani_types::domain::Role;

use super::Principal;
use crate::models::facilities::FacilityRow;
use crate::models::patients::PatientRow;

/// The caller may not do this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not allowed")]
pub struct Denied;

/// What an administrator administers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminScope {
    National,
    State(String),
    Facility(String),
}

impl AdminScope {
    /// Whether a facility lies within this scope.
    pub fn covers(&self, facility: &FacilityRow) -> bool {
        match self {
            AdminScope::National => true,
            AdminScope::State(code) => facility.state_code == *code,
            AdminScope::Facility(id) => facility.id == *id,
        }
    }

    /// Whether a whole state lies within this scope.
    pub fn covers_state(&self, state_code: &str) -> bool {
        match self {
            AdminScope::National => true,
            AdminScope::State(code) => code == state_code,
            AdminScope::Facility(_) => false,
        }
    }

    /// Whether this scope contains `other` entirely (an admin may only create admins inside
    /// their own scope).
    pub fn contains(&self, other: &AdminScope, other_facility: Option<&FacilityRow>) -> bool {
        match (self, other) {
            (AdminScope::National, _) => true,
            (AdminScope::State(mine), AdminScope::State(theirs)) => mine == theirs,
            (AdminScope::State(_), AdminScope::Facility(_)) => {
                other_facility.is_some_and(|facility| self.covers(facility))
            }
            (AdminScope::Facility(mine), AdminScope::Facility(theirs)) => mine == theirs,
            _ => false,
        }
    }
}

impl Principal {
    pub fn require_role(&self, allowed: &[Role]) -> Result<(), Denied> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(Denied)
        }
    }

    /// The caller's scope, if they are an administrator.
    pub fn admin_scope(&self) -> Result<AdminScope, Denied> {
        if self.role != Role::Admin {
            return Err(Denied);
        }
        Ok(match (&self.facility_id, &self.state_code) {
            (Some(facility), _) => AdminScope::Facility(facility.clone()),
            (None, Some(state)) => AdminScope::State(state.clone()),
            (None, None) => AdminScope::National,
        })
    }

    /// Only national administrators (signing keys, programme administrators).
    pub fn require_national_admin(&self) -> Result<(), Denied> {
        match self.admin_scope()? {
            AdminScope::National => Ok(()),
            _ => Err(Denied),
        }
    }

    /// A patient account sees the patients registered under it, and nobody else's; a CHO sees
    /// the walk-in patients of their spoke. Doctors' access comes with consultations.
    pub fn may_view_patient(&self, patient: &PatientRow) -> bool {
        match self.role {
            Role::Patient => patient.account_id.as_deref() == Some(self.user_id.as_str()),
            Role::Cho => self.is_cho_of(patient),
            _ => false,
        }
    }

    /// A CHO looks after the walk-in patients registered at their own spoke.
    pub fn is_cho_of(&self, patient: &PatientRow) -> bool {
        self.role == Role::Cho
            && self.facility_id.is_some()
            && patient.registered_facility_id.as_deref() == self.facility_id.as_deref()
    }

    /// Changing a profile follows the same rule as seeing it, for now.
    pub fn may_edit_patient(&self, patient: &PatientRow) -> bool {
        self.may_view_patient(patient)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::*;

    fn principal(role: Role, facility: Option<&str>, state: Option<&str>) -> Principal {
        Principal {
            user_id: "u1".into(),
            session_id: "s1".into(),
            role,
            facility_id: facility.map(Into::into),
            state_code: state.map(Into::into),
        }
    }

    fn facility(id: &str, state: &str) -> FacilityRow {
        FacilityRow {
            id: id.into(),
            state_code: state.into(),
            district: "Kolkata".into(),
            kind: "hub".into(),
            name: "Hub".into(),
            address: "Addr".into(),
            created_at: NaiveDateTime::default(),
        }
    }

    #[test]
    fn only_admins_have_a_scope() {
        for role in [Role::Patient, Role::Doctor, Role::Cho, Role::Pharmacist] {
            assert_eq!(principal(role, None, None).admin_scope(), Err(Denied));
        }
        assert_eq!(
            principal(Role::Admin, None, None).admin_scope(),
            Ok(AdminScope::National)
        );
        assert_eq!(
            principal(Role::Admin, None, Some("WB")).admin_scope(),
            Ok(AdminScope::State("WB".into()))
        );
    }

    #[test]
    fn state_scope_covers_only_its_state() {
        let scope = AdminScope::State("WB".into());
        assert!(scope.covers(&facility("f1", "WB")));
        assert!(!scope.covers(&facility("f2", "DL")));
        assert!(!AdminScope::Facility("f1".into()).covers(&facility("f2", "WB")));
    }

    #[test]
    fn admins_cannot_create_wider_admins() {
        let state = AdminScope::State("WB".into());
        assert!(!state.contains(&AdminScope::National, None));
        assert!(!state.contains(&AdminScope::State("DL".into()), None));
        assert!(state.contains(
            &AdminScope::Facility("f1".into()),
            Some(&facility("f1", "WB"))
        ));
        assert!(!state.contains(
            &AdminScope::Facility("f2".into()),
            Some(&facility("f2", "DL"))
        ));
        assert!(!AdminScope::Facility("f1".into()).contains(&AdminScope::State("WB".into()), None));
    }
}
