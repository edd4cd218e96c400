//! Visits a health worker registered at a spoke with this account's number: the home page
//! offers each one (the centre, the day and the name's first letter only) to add to the family
//! or to decline. A person first registered at a spoke who now signs in accepts their own
//! record instead of typing it again.

use actix_web::{post, web, HttpRequest, HttpResponse};
use sanjeevani_types::walk_in::WalkInAccept;
use serde::Deserialize;

use super::super::see_other;
use super::{in_language, Account};
use crate::error::ApiError;
use crate::routes::client_ip;
use crate::services::walk_ins;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(accept).service(decline);
}

#[derive(Deserialize)]
struct AcceptForm {
    /// Left out (or empty) for the holder's own record.
    #[serde(default)]
    relation: String,
}

#[post("/walk-ins/{id}/accept")]
async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    path: web::Path<String>,
    form: web::Form<AcceptForm>,
) -> HttpResponse {
    let input = WalkInAccept {
        relation: Some(form.relation.trim().to_owned()).filter(|r| !r.is_empty()),
    };
    match walk_ins::accept(&state, &account, path.into_inner(), input, client_ip(&req)).await {
        Ok(_) => see_other(&in_language(&req, "/app#family")),
        Err(error) => ApiError::from(error).into_page(&req),
    }
}

#[post("/walk-ins/{id}/decline")]
async fn decline(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    path: web::Path<String>,
) -> HttpResponse {
    match walk_ins::decline(&state, &account, path.into_inner(), client_ip(&req)).await {
        Ok(()) => see_other(&in_language(&req, "/app")),
        Err(error) => ApiError::from(error).into_page(&req),
    }
}
