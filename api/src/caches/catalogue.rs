//! Each OPD as bookings, queue reads and calls need it: its row, its programme, weekly slots,
//! closures from yesterday on, and the doctors assigned, held per `catalogue` generation (bumped
//! by every change to an OPD, its slots, closures or doctors, and to a programme).

use std::sync::Arc;

use chrono::NaiveDate;

use super::Tagged;
use crate::db::DbConnection;
use crate::models::facilities;
use crate::models::opds::{self, ClosureRow, OpdRow, ProgrammeRow, SlotRow};

/// An entry is about a kilobyte; the country has 1,152 online OPDs.
const CAPACITY: usize = 20_000;

/// One OPD and what every booking and queue read of it looks up.
#[derive(Debug)]
pub struct OpdEntry {
    pub opd: OpdRow,
    pub programme: ProgrammeRow,
    /// The hub's state (facilities never move): scopes the OPD's messages for administrators.
    pub hub_state_code: Option<String>,
    pub slots: Vec<SlotRow>,
    /// Closures on `closures_from` or later, by date.
    closures: Vec<ClosureRow>,
    closures_from: NaiveDate,
    doctors: Vec<String>,
}

impl OpdEntry {
    /// The closures on `from` or later; `None` if the entry does not hold that far back.
    pub fn closures_from(&self, from: NaiveDate) -> Option<Vec<ClosureRow>> {
        (from >= self.closures_from).then(|| {
            self.closures
                .iter()
                .filter(|c| c.closed_on >= from)
                .cloned()
                .collect()
        })
    }

    pub fn is_assigned(&self, doctor_id: &str) -> bool {
        self.doctors.iter().any(|d| d == doctor_id)
    }
}

/// Cheap to clone (shared).
#[derive(Clone)]
pub struct Catalogue {
    held: Arc<Tagged<Arc<OpdEntry>>>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self {
            held: Arc::new(Tagged::new(CAPACITY)),
        }
    }
}

impl Catalogue {
    /// The OPD at generation `catalogue`, if held with closures from before `today`.
    pub fn get(&self, opd_id: &str, catalogue: i64, today: NaiveDate) -> Option<Arc<OpdEntry>> {
        self.held
            .get(opd_id, catalogue)
            .filter(|entry| entry.closures_from <= closures_from(today))
    }

    pub fn put(&self, opd_id: &str, catalogue: i64, entry: Arc<OpdEntry>) {
        self.held.put(opd_id, catalogue, entry);
    }
}

/// Closures from the day before `today` (IST) on are kept, so a session that began before
/// midnight still sees its day's closure.
fn closures_from(today: NaiveDate) -> NaiveDate {
    today.pred_opt().unwrap_or(today)
}

/// Reads an OPD and what is kept with it.
pub fn load(
    conn: &mut DbConnection,
    opd_id: &str,
    today: NaiveDate,
) -> diesel::QueryResult<Option<Arc<OpdEntry>>> {
    let Some(opd) = opds::find(conn, opd_id)? else {
        return Ok(None);
    };
    let Some(programme) = opds::find_programme(conn, &opd.programme_id)? else {
        return Ok(None);
    };
    let hub_state_code = facilities::find(conn, &opd.hub_id)?.map(|hub| hub.state_code);
    let ids = [opd.id.clone()];
    let from = closures_from(today);
    Ok(Some(Arc::new(OpdEntry {
        hub_state_code,
        slots: opds::slots(conn, &ids)?,
        closures: opds::closures(conn, &ids, from)?,
        closures_from: from,
        doctors: opds::doctors(conn, &ids)?
            .into_iter()
            .map(|(_, doctor)| doctor)
            .collect(),
        programme,
        opd,
    })))
}
