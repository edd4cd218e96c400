//! The account's settings: optional messages on or off (codes and safety messages always go),
//! and the devices signed in to the account, each of which can be signed out.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::notification::NotificationPreferences;
use serde::Deserialize;

use super::super::{render, see_other, Chrome};
use super::{in_language, Account};
use crate::auth::login;
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::services::notifications;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(set_messages)
        .service(sign_out_device)
        .service(sign_out_others);
}

pub struct DeviceLine {
    pub id: String,
    pub name: String,
    pub since: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "app_settings.html")]
struct SettingsPage {
    c: Chrome,
    optional_messages: bool,
    devices: Vec<DeviceLine>,
}

#[get("/settings")]
async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
) -> HttpResponse {
    let loaded = async {
        let preferences = notifications::preferences(&state, &account).await?;
        let sessions = login::list_sessions(&state, &account).await?;
        Ok::<_, ApiError>((preferences, sessions))
    }
    .await;
    let (preferences, sessions) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return error.into_page(&req),
    };
    let c = Chrome::new(&req, Some(&account));
    let devices = sessions
        .iter()
        .map(|s| DeviceLine {
            id: s.id.clone(),
            name: s
                .device_name
                .clone()
                .unwrap_or_else(|| c.t("app-device-unnamed")),
            since: format_time_ist(s.created_at, c.language),
            last_seen: format_time_ist(s.last_seen_at, c.language),
            current: s.current,
        })
        .collect();
    let page = SettingsPage {
        optional_messages: preferences.optional_messages,
        devices,
        c,
    };
    render(&req, StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct MessagesForm {
    /// A checkbox: present when ticked.
    optional_messages: Option<String>,
}

#[post("/settings/messages")]
async fn set_messages(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    form: web::Form<MessagesForm>,
) -> HttpResponse {
    let wanted = NotificationPreferences {
        optional_messages: form.optional_messages.is_some(),
    };
    match notifications::set_preferences(&state, &account, wanted).await {
        Ok(_) => see_other(&in_language(&req, "/app/settings#messages")),
        Err(error) => ApiError::from(error).into_page(&req),
    }
}

#[post("/settings/devices/{id}/sign-out")]
async fn sign_out_device(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    path: web::Path<String>,
) -> HttpResponse {
    match login::revoke_session(&state, &account, path.into_inner()).await {
        Ok(true) => see_other(&in_language(&req, "/app/settings#devices")),
        Ok(false) => ApiError::not_found("session").into_page(&req),
        Err(error) => ApiError::from(error).into_page(&req),
    }
}

/// Signs out every device of the account but this one (a lost phone, a shared computer).
#[post("/settings/devices/sign-out-others")]
async fn sign_out_others(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
) -> HttpResponse {
    let others = match login::list_sessions(&state, &account).await {
        Ok(sessions) => sessions.into_iter().filter(|s| !s.current),
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    for session in others {
        if let Err(error) = login::revoke_session(&state, &account, session.id).await {
            return ApiError::from(error).into_page(&req);
        }
    }
    see_other(&in_language(&req, "/app/settings#devices"))
}
