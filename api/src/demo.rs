//! The demo world (`--demo`): one state, two hubs, three spokes, a pharmacy and their staff,
//! so a newcomer can try every flow at once. Seeding is idempotent: a second start leaves the
//! data alone. Refused in production mode by configuration (`--demo` sets the mode to demo).

use crate::auth::hashing::hash_password;
use crate::auth::token::new_id;
use crate::db::{DbConnection, StoreError};
use crate::models::facilities::{self, NewFacility};
use crate::models::opds::{self, OpdRow, ProgrammeRow, SlotRow};
use crate::models::programmes;
use crate::models::users::NewUser;
use crate::state::AppState;

/// The password of every demo staff account. Demo data only: production never seeds.
pub const DEMO_PASSWORD: &str = "sanjeevani-demo-2026";

pub struct DemoFacility {
    pub id: &'static str,
    pub kind: &'static str,
    pub name: &'static str,
    pub district: &'static str,
    pub address: &'static str,
}

pub const FACILITIES: &[DemoFacility] = &[
    DemoFacility {
        id: "00000000-0000-7000-8000-000000000101",
        kind: "hub",
        name: "Medical College and Hospital, Kolkata",
        district: "Kolkata",
        address: "88 College Street, Kolkata 700073",
    },
    DemoFacility {
        id: "00000000-0000-7000-8000-000000000102",
        kind: "hub",
        name: "North Bengal Medical College and Hospital",
        district: "Darjeeling",
        address: "Sushrutanagar, Siliguri 734012",
    },
    DemoFacility {
        id: "00000000-0000-7000-8000-000000000201",
        kind: "spoke",
        name: "Ayushman Arogya Mandir, Sonarpur",
        district: "South 24 Parganas",
        address: "Rajpur Sonarpur, South 24 Parganas 700150",
    },
    DemoFacility {
        id: "00000000-0000-7000-8000-000000000202",
        kind: "spoke",
        name: "Ayushman Arogya Mandir, Bolpur",
        district: "Birbhum",
        address: "Bolpur, Birbhum 731204",
    },
    DemoFacility {
        id: "00000000-0000-7000-8000-000000000203",
        kind: "spoke",
        name: "Ayushman Arogya Mandir, Matigara",
        district: "Darjeeling",
        address: "Matigara, Darjeeling 734010",
    },
    DemoFacility {
        id: "00000000-0000-7000-8000-000000000301",
        kind: "pharmacy",
        name: "Fair Price Medicine Shop, College Street",
        district: "Kolkata",
        address: "College Street, Kolkata 700073",
    },
];

pub struct DemoStaff {
    pub username: &'static str,
    pub role: &'static str,
    pub name: &'static str,
    pub facility: Option<usize>,
    pub registration_number: Option<&'static str>,
    pub specialty: Option<&'static str>,
}

pub const STAFF: &[DemoStaff] = &[
    DemoStaff {
        username: "admin.wb",
        role: "admin",
        name: "Ananya Mukherjee",
        facility: None,
        registration_number: None,
        specialty: None,
    },
    DemoStaff {
        username: "dr.sen",
        role: "doctor",
        name: "Dr. Arindam Sen",
        facility: Some(0),
        registration_number: Some("WBMC-61234"),
        specialty: Some("General Medicine"),
    },
    DemoStaff {
        username: "dr.roy",
        role: "doctor",
        name: "Dr. Sushmita Roy",
        facility: Some(0),
        registration_number: Some("WBMC-58812"),
        specialty: Some("Paediatrics"),
    },
    DemoStaff {
        username: "dr.ghosh",
        role: "doctor",
        name: "Dr. Partha Ghosh",
        facility: Some(1),
        registration_number: Some("WBMC-70431"),
        specialty: Some("Obstetrics and Gynaecology"),
    },
    DemoStaff {
        username: "cho.sonarpur",
        role: "cho",
        name: "Rina Mondal",
        facility: Some(2),
        registration_number: None,
        specialty: None,
    },
    DemoStaff {
        username: "pharmacist.college",
        role: "pharmacist",
        name: "Subhas Dutta",
        facility: Some(5),
        registration_number: Some("WBPC-22107"),
        specialty: None,
    },
    DemoStaff {
        username: "admin.sehat",
        role: "admin",
        name: "Col. Vikram Rathore",
        facility: Some(0),
        registration_number: None,
        specialty: None,
    },
];

pub struct DemoOpd {
    pub id: &'static str,
    pub hub: usize,
    pub code: &'static str,
    pub name: &'static str,
    pub specialty: &'static str,
    pub languages: &'static str,
    /// (weekdays, start, end); empty for round the clock.
    pub slots: &'static [(&'static [i32], &'static str, &'static str)],
    pub capacity: i32,
    pub days_ahead: i32,
    pub priority_every: i32,
    /// Indexes into [`STAFF`].
    pub doctors: &'static [usize],
    /// The owning programme's code.
    pub programme: &'static str,
}

/// The programmes besides the national one (which every deployment has).
pub struct DemoProgramme {
    pub id: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    pub eligibility: &'static str,
    pub sensitive: bool,
    /// Neutral wording for messages (JSON per language), for a sensitive programme.
    pub public_label: Option<&'static str>,
    /// Targets the reports compare against (JSON).
    pub targets: Option<&'static str>,
    /// Indexes into [`STAFF`] of its administrators.
    pub admins: &'static [usize],
}

pub const PROGRAMMES: &[DemoProgramme] = &[
    DemoProgramme {
        id: "00000000-0000-7000-8000-000000000002",
        code: "wb",
        name: "West Bengal state telemedicine service",
        eligibility: "open",
        sensitive: false,
        public_label: None,
        // The state's own rules for its hubs and doctors.
        targets: Some(r#"{"min_doctors_per_hub": 9, "min_consultations_per_doctor_month": 100}"#),
        admins: &[0],
    },
    DemoProgramme {
        id: "00000000-0000-7000-8000-000000000003",
        code: "sehat",
        name: "Sehat OPD (armed forces personnel, veterans and families)",
        eligibility: "closed",
        sensitive: false,
        public_label: None,
        targets: None,
        admins: &[6],
    },
    DemoProgramme {
        id: "00000000-0000-7000-8000-000000000004",
        code: "ehiv",
        name: "e-HIV Care",
        eligibility: "open",
        sensitive: true,
        public_label: Some(r#"{"en": "your clinic", "hi": "आपका क्लिनिक", "bn": "আপনার ক্লিনিক"}"#),
        targets: None,
        admins: &[],
    },
];

const MON_TO_SAT: &[i32] = &[1, 2, 3, 4, 5, 6];

pub const OPDS: &[DemoOpd] = &[
    DemoOpd {
        id: "00000000-0000-7000-8000-000000002001",
        hub: 0,
        code: "GM",
        name: "General Medicine OPD",
        specialty: "General Medicine",
        languages: "bn,hi,en",
        slots: &[
            (MON_TO_SAT, "09:00", "13:00"),
            (MON_TO_SAT, "14:00", "16:00"),
        ],
        capacity: 100,
        days_ahead: 2,
        priority_every: 3,
        doctors: &[1, 2],
        programme: "wb",
    },
    DemoOpd {
        id: "00000000-0000-7000-8000-000000002002",
        hub: 0,
        code: "PD",
        name: "Paediatrics OPD",
        specialty: "Paediatrics",
        languages: "bn,en",
        slots: &[(&[1, 3, 5], "10:00", "13:00")],
        capacity: 60,
        days_ahead: 3,
        priority_every: 0,
        doctors: &[2],
        programme: "wb",
    },
    DemoOpd {
        id: "00000000-0000-7000-8000-000000002003",
        hub: 1,
        code: "AC",
        name: "Round-the-clock General OPD",
        specialty: "General Medicine",
        languages: "bn,hi,ne,en",
        slots: &[],
        capacity: 500,
        days_ahead: 0,
        priority_every: 4,
        doctors: &[3],
        programme: "national",
    },
    DemoOpd {
        id: "00000000-0000-7000-8000-000000002004",
        hub: 0,
        code: "SH",
        name: "Sehat OPD",
        specialty: "General Medicine",
        languages: "hi,bn,en",
        slots: &[],
        capacity: 200,
        days_ahead: 0,
        priority_every: 4,
        doctors: &[2],
        programme: "sehat",
    },
    DemoOpd {
        id: "00000000-0000-7000-8000-000000002005",
        hub: 0,
        code: "HC",
        name: "Care clinic",
        specialty: "Infectious Diseases",
        languages: "bn,hi,en",
        slots: &[(MON_TO_SAT, "14:00", "17:00")],
        capacity: 40,
        days_ahead: 7,
        priority_every: 0,
        doctors: &[1],
        programme: "ehiv",
    },
];

fn seed_programmes(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> Result<(), StoreError> {
    for programme in PROGRAMMES {
        programmes::insert(
            conn,
            &ProgrammeRow {
                id: programme.id.into(),
                code: programme.code.into(),
                name: programme.name.into(),
                eligibility: programme.eligibility.into(),
                sensitive: programme.sensitive,
                created_at: now,
                public_label: programme.public_label.map(Into::into),
                targets: programme.targets.map(Into::into),
            },
        )?;
        for admin in programme.admins {
            programmes::add_admin(conn, programme.id, &staff_id(*admin), now)?;
        }
    }
    Ok(())
}

fn seed_opds(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> Result<(), StoreError> {
    for opd in OPDS {
        let programme = opds::find_programme_by_code(conn, opd.programme)?
            .ok_or_else(|| StoreError::Migration(format!("no programme {}", opd.programme)))?;
        opds::insert(
            conn,
            &OpdRow {
                id: opd.id.into(),
                programme_id: programme.id,
                hub_id: FACILITIES[opd.hub].id.into(),
                code: opd.code.into(),
                name: opd.name.into(),
                specialty: opd.specialty.into(),
                languages: opd.languages.into(),
                always_open: opd.slots.is_empty(),
                capacity_per_session: opd.capacity,
                booking_days_ahead: opd.days_ahead,
                priority_every: opd.priority_every,
                join_window_seconds: 120,
                requeue_no_show: true,
                near_turn_threshold: 3,
                active: true,
                created_at: now,
                updated_at: now,
            },
        )?;
        let slots: Vec<SlotRow> = opd
            .slots
            .iter()
            .flat_map(|(days, starts, ends)| {
                days.iter().map(move |day| SlotRow {
                    id: new_id(),
                    opd_id: opd.id.into(),
                    weekday: *day,
                    starts_at: (*starts).into(),
                    ends_at: (*ends).into(),
                })
            })
            .collect();
        opds::replace_slots(conn, opd.id, &slots)?;
        let doctors: Vec<String> = opd.doctors.iter().map(|i| staff_id(*i)).collect();
        opds::replace_doctors(conn, opd.id, &doctors)?;
    }
    Ok(())
}

/// The fixed id of the demo staff member at `index` in [`STAFF`].
pub fn staff_id(index: usize) -> String {
    format!("00000000-0000-7000-8000-0000000010{index:02}")
}

/// Seeds the demo world unless it is already there.
pub async fn seed(state: &AppState) -> Result<(), StoreError> {
    let hashes: Vec<String> = tokio::task::spawn_blocking(|| {
        STAFF.iter().map(|_| hash_password(DEMO_PASSWORD)).collect()
    })
    .await
    .map_err(|_| StoreError::Unavailable("hashing task failed".into()))?;
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<(), StoreError> {
            if facilities::state_exists(conn, "WB")? {
                return Ok(());
            }
            facilities::insert_state(conn, "WB", "West Bengal")?;
            for facility in FACILITIES {
                NewFacility {
                    id: facility.id,
                    state_code: "WB",
                    district: facility.district,
                    kind: facility.kind,
                    name: facility.name,
                    address: facility.address,
                    created_at: now,
                }
                .insert(conn)?;
            }
            for (index, (staff, hash)) in STAFF.iter().zip(&hashes).enumerate() {
                let id = staff_id(index);
                NewUser {
                    id: &id,
                    role: staff.role,
                    name: staff.name,
                    phone: None,
                    email: None,
                    username: Some(staff.username),
                    password_hash: Some(hash),
                    facility_id: staff.facility.map(|i| FACILITIES[i].id),
                    state_code: Some("WB"),
                    registration_number: staff.registration_number,
                    specialty: staff.specialty,
                    created_at: now,
                    updated_at: now,
                }
                .insert(conn)?;
            }
            seed_programmes(conn, now)?;
            seed_opds(conn, now)?;
            Ok(())
        })
        .await
}

/// What a newcomer needs to try the demo.
pub fn print_guide(base: &str) {
    println!("\nDemo world: West Bengal, 2 hubs, 3 spokes, 1 pharmacy; online OPDs:");
    for opd in OPDS {
        let when = if opd.slots.is_empty() {
            "round the clock".to_owned()
        } else {
            opd.slots
                .iter()
                .map(|(_, s, e)| format!("{s}-{e}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let programme = PROGRAMMES
            .iter()
            .find(|p| p.code == opd.programme)
            .map_or("National online OPD", |p| p.name);
        println!(
            "  {} {} at {} ({when}) - {programme}",
            opd.code, opd.name, FACILITIES[opd.hub].name
        );
    }
    println!(
        "Sehat OPD is for verified members: claim with POST /api/v1/programmes/sehat/membership \
         {{\"card_number\": ...}}; admin.sehat uploads the roster or verifies the claim."
    );
    println!("Staff log in with password `{DEMO_PASSWORD}`:");
    for staff in STAFF {
        let place = staff
            .facility
            .map(|i| FACILITIES[i].name)
            .unwrap_or("state of West Bengal");
        println!(
            "  {:<20} {:<10} {} ({place})",
            staff.username, staff.role, staff.name
        );
    }
    println!(
        "\nTry it:\n  curl -s -XPOST {base}/api/v1/auth/login -H 'content-type: application/json' \\\n    -d '{{\"username\":\"dr.sen\",\"password\":\"{DEMO_PASSWORD}\"}}'\n\
         Patients log in with any Indian mobile number; the code appears on this console:\n  \
         curl -s -XPOST {base}/api/v1/auth/otp/request -H 'content-type: application/json' -d '{{\"phone\":\"+919876543210\"}}'\n  \
         curl -s -XPOST {base}/api/v1/auth/otp/verify -H 'content-type: application/json' -d '{{\"phone\":\"+919876543210\",\"code\":\"<code>\"}}'\n"
    );
}
