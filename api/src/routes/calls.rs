//! The consultation call: the room, ICE servers, the signalling WebSocket, shared files and the
//! call record under `/api/v1/calls/{token_id}`. The call pages are with the other pages
//! (`crate::pages::call`).

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use sanjeevani_types::call::{CallRecord, CallRoom, IceConfig, SharedFile};
use sanjeevani_types::ErrorBody;

use super::{client_ip, read_limited};
use crate::auth::Principal;
use crate::call::service::{self, Upload};
use crate::error::ApiError;
use crate::state::AppState;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(room)
        .service(ice_servers)
        .service(socket)
        .service(record)
        .service(files)
        .service(download);
}

/// The room of a called token, for its participants: the doctor who called it, and the
/// patient's family account or (assisted) the CHO of the spoke. Others: 404.
#[utoipa::path(tag = "calls", security(("bearer" = [])), params(("token_id" = String, Path)),
    responses((status = 200, body = CallRoom), (status = 404, body = ErrorBody)))]
#[get("/calls/{token_id}")]
pub async fn room(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::room(&state, &principal, path.into_inner()).await?))
}

/// STUN and TURN servers with short-lived TURN REST credentials, for a participant of an open
/// room.
#[utoipa::path(tag = "calls", security(("bearer" = [])), params(("token_id" = String, Path)),
    responses((status = 200, body = IceConfig), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`room_not_open`, `room_closed`")))]
#[get("/calls/{token_id}/ice-servers")]
pub async fn ice_servers(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let config = service::ice_servers(&state, &principal, path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(config))
}

/// The signalling WebSocket. Send `{"type": "auth", "token": "<session token>"}` first; then
/// `offer`, `answer`, `ice`, `chat`, `leave`, `ping` (see `sanjeevani_types::call`).
#[utoipa::path(tag = "calls", params(("token_id" = String, Path)),
    responses((status = 101, description = "WebSocket of JSON messages with a `type` tag"),
        (status = 400, body = ErrorBody, description = "`websocket_required`: not a WebSocket handshake")))]
#[get("/calls/{token_id}/ws")]
pub async fn socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // actix's own refusal of a bad handshake is plain text; answer in the one error shape.
    let (response, session, stream) = actix_ws::handle(&req, body).map_err(|error| {
        ApiError::bad_request(
            "websocket_required",
            format!("Open this URL as a WebSocket: {error}"),
        )
    })?;
    actix_web::rt::spawn(crate::call::socket::serve(
        state.get_ref().clone(),
        path.into_inner(),
        session,
        stream,
    ));
    Ok(response)
}

/// The record of a token's calls: who joined when, how each call ended, the chat and the
/// shared files. For the participants and whoever may read the consultation record.
#[utoipa::path(tag = "calls", security(("bearer" = [])), params(("token_id" = String, Path)),
    responses((status = 200, body = CallRecord), (status = 404, body = ErrorBody)))]
#[get("/calls/{token_id}/record")]
pub async fn record(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = service::record(&state, &principal, path.into_inner(), client_ip(&req)).await?;
    Ok(HttpResponse::Ok().json(record))
}

/// The patient's side shares a file during the call: the body is the file itself (PDF, PNG,
/// JPEG or WebP, recognised by its content; at most `calls.max_file_bytes`), its name in
/// `X-File-Name` (percent-encoded UTF-8).
#[utoipa::path(tag = "calls", security(("bearer" = [])), params(("token_id" = String, Path),
        ("X-File-Name" = Option<String>, Header, description = "the file's name, percent-encoded")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = SharedFile), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`room_not_open`, `room_closed`, `too_many_files`"),
              (status = 413, body = ErrorBody, description = "`file_too_large`"),
              (status = 422, body = ErrorBody, description = "`unsupported_file_type`, `empty_file`")))]
#[post("/calls/{token_id}/files")]
pub async fn files(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limit = state.settings.calls.max_file_bytes as usize;
    let bytes = read_limited(body, limit, || {
        ApiError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("Files may be at most {limit} bytes."),
        )
    })
    .await?;
    let file_name = req
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .unwrap_or_default();
    let upload = Upload { file_name, bytes };
    let file = service::upload(&state, &principal, path.into_inner(), upload).await?;
    Ok(HttpResponse::Created().json(file))
}

/// A shared file, for the room's participants and the record's readers. Served as an
/// attachment-safe download: its sniffed type, `nosniff`, and a sandbox so a PDF viewer runs
/// no script of ours.
#[utoipa::path(tag = "calls", security(("bearer" = [])),
    params(("token_id" = String, Path), ("file_id" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)))]
#[get("/calls/{token_id}/files/{file_id}")]
pub async fn download(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (token_id, file_id) = path.into_inner();
    let (file, bytes) =
        service::download(&state, &principal, token_id, file_id, client_ip(&req)).await?;
    Ok(HttpResponse::Ok()
        .content_type(file.media_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "inline; filename*=UTF-8''{}",
                percent_encode(&file.file_name)
            ),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        .body(bytes))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_travel_percent_encoded() {
        let name = "রিপোর্ট 2026.pdf";
        assert_eq!(percent_decode(&percent_encode(name)), name);
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
