//! The signed e-prescription: its short code and its offline-verifiable QR payload. Shared by
//! the server (which signs) and the apps (which verify offline with cached keys). The format
//! is specified in `api/docs/prescription-format.md`.
//!
//! - **Code**: 10 random characters from `0-9A-Z` plus one ISO 7064 MOD 37-2 check character
//!   (`0-9A-Z*`), shown as `XXXXX-XXXXX-C`. A mistyped code fails the check before any lookup.
//! - **Payload**: a compact JWS (`header.payload.signature`, base64url without padding) with
//!   header `{"alg":"EdDSA","kid":...,"zip":"DEF"}`; the payload is the raw DEFLATE of the
//!   claims' JSON; the signature is Ed25519 over `header.payload` as in RFC 7515/8037.
//! - **QR**: `sjv:/` followed by the JWS with each character as two digits (its code point
//!   minus 45), so the QR uses the dense numeric mode, as SMART Health Cards do.

use std::collections::HashMap;
use std::io::Write;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const CODE_ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
/// Random characters in a code: 36^10, about 3.7 x 10^15 codes.
pub const CODE_RANDOM_LEN: usize = 10;
/// The QR text prefix.
pub const QR_PREFIX: &str = "sjv:/";
/// Inflated payloads larger than this are refused (a decompression bomb guard).
const MAX_CLAIMS_BYTES: u64 = 64 * 1024;

/// ISO 7064 MOD 37-2 check character for `data` (characters `0-9A-Z`).
pub fn check_character(data: &str) -> Option<char> {
    let mut p: u32 = 0;
    for c in data.chars() {
        let value = CODE_ALPHABET[..36].iter().position(|&a| a as char == c)? as u32;
        p = ((p + value) * 2) % 37;
    }
    let check = (38 - p) % 37;
    Some(CODE_ALPHABET[check as usize] as char)
}

/// A prescription code as typed: hyphens and spaces ignored, case folded; the check character
/// must match. Returns the canonical form `XXXXX-XXXXX-C`.
pub fn parse_code(input: &str) -> Option<String> {
    let cleaned: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if cleaned.len() != CODE_RANDOM_LEN + 1 || !cleaned.is_ascii() {
        return None;
    }
    let (data, check) = cleaned.split_at(CODE_RANDOM_LEN);
    (check_character(data)? == check.chars().next()?).then(|| format_code(data, check))
}

fn format_code(data: &str, check: &str) -> String {
    format!("{}-{}-{check}", &data[..5], &data[5..])
}

/// A new code from 10 random values in 0..36 (the caller supplies CSPRNG output).
pub fn new_code(random: [u8; CODE_RANDOM_LEN]) -> String {
    let data: String = random
        .iter()
        .map(|r| CODE_ALPHABET[(*r % 36) as usize] as char)
        .collect();
    let check = check_character(&data)
        .expect("alphabet characters")
        .to_string();
    format_code(&data, &check)
}

/// One medicine line as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedItem {
    /// Medicine name as written by the doctor.
    #[serde(rename = "m")]
    pub medicine: String,
    #[serde(rename = "f")]
    pub form: String,
    #[serde(rename = "s")]
    pub strength: String,
    #[serde(rename = "d")]
    pub dose: String,
    #[serde(rename = "q")]
    pub frequency: String,
    /// `before_food`, `after_food`, `with_food` or `any`.
    #[serde(rename = "t")]
    pub timing: String,
    #[serde(rename = "r")]
    pub route: String,
    #[serde(rename = "du")]
    pub duration_days: i32,
    #[serde(rename = "n")]
    pub quantity: i32,
    #[serde(rename = "i", default, skip_serializing_if = "String::is_empty")]
    pub instructions: String,
}

/// What the QR carries: what a pharmacist needs and nothing more of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Format version, 1.
    pub v: u32,
    /// The issuer, e.g. `https://sanjeevani.example.in`.
    pub iss: String,
    /// The prescription code `XXXXX-XXXXX-C`.
    pub id: String,
    /// Issued at and valid until, seconds since the Unix epoch (UTC).
    pub iat: i64,
    pub exp: i64,
    /// Patient: name, age in years, sex (`F`, `M`, `O`).
    pub pn: String,
    pub pa: i32,
    pub ps: String,
    /// Doctor: name and registration number.
    pub dn: String,
    pub dr: String,
    /// OPD and hub names.
    pub opd: String,
    pub hub: String,
    pub rx: Vec<SignedItem>,
}

impl Claims {
    /// The patient's sex from its one-letter form in `ps`.
    pub fn patient_sex(&self) -> crate::domain::Sex {
        match self.ps.as_str() {
            "F" => crate::domain::Sex::Female,
            "M" => crate::domain::Sex::Male,
            _ => crate::domain::Sex::Other,
        }
    }
}

/// The one-letter form of a sex in `ps` (`F`, `M`, `O`).
pub fn sex_letter(sex: crate::domain::Sex) -> &'static str {
    match sex {
        crate::domain::Sex::Female => "F",
        crate::domain::Sex::Male => "M",
        crate::domain::Sex::Other => "O",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Header {
    alg: String,
    kid: String,
    zip: String,
}

/// A public key as published at `/.well-known/jwks.json` (RFC 8037 OKP key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub key_use: String,
    pub alg: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// The JWK for an Ed25519 public key; `kid` is its RFC 7638 thumbprint.
    pub fn ed25519(public: &[u8; 32]) -> Jwk {
        let x = URL_SAFE_NO_PAD.encode(public);
        let thumbprint_input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x,
            kid,
            key_use: "sig".into(),
            alg: "EdDSA".into(),
        }
    }
}

/// Why a payload did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the payload is not a well-formed signed prescription")]
    Malformed,
    #[error("the signature does not match: the payload was altered")]
    Tampered,
    #[error("signed by a key that is not published")]
    UnknownKey,
    #[error("the prescription expired")]
    Expired,
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Malformed | VerifyError::Tampered => "tampered",
            VerifyError::UnknownKey => "unknown_key",
            VerifyError::Expired => "expired",
        }
    }
}

/// Signs claims with an Ed25519 key; returns the compact JWS.
pub fn sign(claims: &Claims, key: &SigningKey) -> String {
    let public = key.verifying_key().to_bytes();
    let header = Header {
        alg: "EdDSA".into(),
        kid: Jwk::ed25519(&public).kid,
        zip: "DEF".into(),
    };
    let header_b64 =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header serialises"));
    let json = serde_json::to_vec(claims).expect("claims serialise");
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflater.write_all(&json).expect("in-memory write");
    let payload_b64 = URL_SAFE_NO_PAD.encode(deflater.finish().expect("in-memory deflate"));
    let signing_input = format!("{header_b64}.{payload_b64}");
    let signature = key.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// Verifies a compact JWS (or its `sjv:/` QR text) against the published keys, offline.
/// `now` (Unix seconds) decides expiry.
pub fn verify(payload: &str, keys: &[Jwk], now: i64) -> Result<Claims, VerifyError> {
    let claims = verify_signature(payload, keys)?;
    if claims.exp <= now {
        return Err(VerifyError::Expired);
    }
    Ok(claims)
}

/// Checks the signature only, whatever the date: a patient's old prescription stays genuine
/// after it can no longer be dispensed. Dispensing decisions use [`verify`].
pub fn verify_signature(payload: &str, keys: &[Jwk]) -> Result<Claims, VerifyError> {
    let jws = if payload.starts_with(QR_PREFIX) {
        from_qr_text(payload)?
    } else {
        payload.trim().to_owned()
    };
    let mut parts = jws.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(VerifyError::Tampered)?;
    if header.alg != "EdDSA" || header.zip != "DEF" {
        return Err(VerifyError::Tampered);
    }
    let by_kid: HashMap<&str, &Jwk> = keys.iter().map(|k| (k.kid.as_str(), k)).collect();
    let jwk = by_kid
        .get(header.kid.as_str())
        .ok_or(VerifyError::UnknownKey)?;
    let public: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&jwk.x)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(VerifyError::UnknownKey)?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| VerifyError::UnknownKey)?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(VerifyError::Tampered)?;
    key.verify(
        format!("{header_b64}.{payload_b64}").as_bytes(),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| VerifyError::Tampered)?;
    inflate_claims(payload_b64)
}

/// The claims of a JWS this service signed and stored itself, without checking the signature
/// (the server reads its own records; verifiers must use [`verify`]).
pub fn decode_claims(jws: &str) -> Result<Claims, VerifyError> {
    let payload_b64 = jws.split('.').nth(1).ok_or(VerifyError::Malformed)?;
    inflate_claims(payload_b64)
}

fn inflate_claims(payload_b64: &str) -> Result<Claims, VerifyError> {
    let compressed = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| VerifyError::Tampered)?;
    let json = inflate(&compressed).ok_or(VerifyError::Tampered)?;
    serde_json::from_slice(&json).map_err(|_| VerifyError::Tampered)
}

thread_local! {
    /// One inflater per thread, reset for each payload: making one zeroes its window and tables
    /// (about 40 KB), which was half of decoding a prescription's claims (callgrind: 97,000 of
    /// 206,000 instructions), and every read of a prescription decodes them.
    static INFLATER: std::cell::RefCell<flate2::Decompress> =
        std::cell::RefCell::new(flate2::Decompress::new(false));
}

/// A raw deflate stream inflated whole, or `None` when it is corrupt, cut short or would
/// inflate beyond [`MAX_CLAIMS_BYTES`].
fn inflate(compressed: &[u8]) -> Option<Vec<u8>> {
    INFLATER.with(|cell| {
        let mut inflater = cell.borrow_mut();
        inflater.reset(false);
        let limit = MAX_CLAIMS_BYTES as usize;
        let mut out = Vec::with_capacity((compressed.len() * 4).clamp(256, limit));
        loop {
            let consumed = inflater.total_in() as usize;
            let produced = out.len();
            let status = inflater
                .decompress_vec(
                    &compressed[consumed..],
                    &mut out,
                    flate2::FlushDecompress::None,
                )
                .ok()?;
            if status == flate2::Status::StreamEnd {
                return (out.len() <= limit).then_some(out);
            }
            if out.len() == out.capacity() {
                if out.len() >= limit {
                    return None;
                }
                out.reserve_exact((limit - out.len()).min(out.len().max(256)));
            } else if inflater.total_in() as usize == consumed && out.len() == produced {
                // No progress with room to write: the stream ends early.
                return None;
            }
        }
    })
}

/// The QR text for a JWS: `sjv:/` and two digits per character (code point - 45).
pub fn to_qr_text(jws: &str) -> String {
    let mut text = String::with_capacity(QR_PREFIX.len() + jws.len() * 2);
    text.push_str(QR_PREFIX);
    for byte in jws.bytes() {
        // Every character of a JWS is 45 ('-') or above and at most 'z' (122): two digits.
        let value = byte - 45;
        text.push(char::from(b'0' + value / 10));
        text.push(char::from(b'0' + value % 10));
    }
    text
}

fn from_qr_text(text: &str) -> Result<String, VerifyError> {
    let digits = text
        .trim()
        .strip_prefix(QR_PREFIX)
        .ok_or(VerifyError::Malformed)?
        .as_bytes();
    if digits.len() % 2 != 0 {
        return Err(VerifyError::Malformed);
    }
    digits
        .chunks(2)
        .map(|pair| {
            let value = std::str::from_utf8(pair).ok()?.parse::<u8>().ok()?;
            let c = char::from(value + 45);
            (c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).then_some(c)
        })
        .collect::<Option<String>>()
        .ok_or(VerifyError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn claims(items: usize) -> Claims {
        Claims {
            v: 1,
            iss: "https://sanjeevani.example.in".into(),
            id: new_code([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            iat: 1_795_000_000,
            exp: 1_797_592_000,
            pn: "সুমিতা দাস".into(),
            pa: 65,
            ps: "F".into(),
            dn: "Dr. Arindam Sen".into(),
            dr: "WBMC-61234".into(),
            opd: "General Medicine OPD".into(),
            hub: "Medical College and Hospital, Kolkata".into(),
            rx: (0..items)
                .map(|i| SignedItem {
                    medicine: format!("Amlodipine {i}"),
                    form: "tablet".into(),
                    strength: "5 mg".into(),
                    dose: "1 tablet".into(),
                    frequency: "once daily".into(),
                    timing: "after_food".into(),
                    route: "oral".into(),
                    duration_days: 30,
                    quantity: 30,
                    instructions: "Check blood pressure weekly".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn check_character_catches_typos() {
        let code = new_code([7, 20, 3, 35, 0, 11, 9, 30, 2, 14]);
        assert_eq!(parse_code(&code), Some(code.clone()));
        assert_eq!(
            parse_code(&code.to_lowercase().replace('-', " ")),
            Some(code.clone())
        );
        // Every single-character substitution and adjacent swap is caught.
        let plain: Vec<char> = code.replace('-', "").chars().collect();
        for i in 0..plain.len() {
            for c in CODE_ALPHABET.iter().map(|&b| b as char) {
                if c != plain[i] {
                    let mut typo = plain.clone();
                    typo[i] = c;
                    assert_eq!(
                        parse_code(&typo.iter().collect::<String>()),
                        None,
                        "{typo:?}"
                    );
                }
            }
            if i + 1 < plain.len() && plain[i] != plain[i + 1] {
                let mut swapped = plain.clone();
                swapped.swap(i, i + 1);
                assert_eq!(parse_code(&swapped.iter().collect::<String>()), None);
            }
        }
    }

    #[test]
    fn signed_payload_verifies_and_round_trips_through_qr_text() {
        let signing = key(1);
        let keys = vec![Jwk::ed25519(&signing.verifying_key().to_bytes())];
        let jws = sign(&claims(2), &signing);
        assert_eq!(verify(&jws, &keys, 1_795_000_001).unwrap(), claims(2));
        assert_eq!(decode_claims(&jws).unwrap(), claims(2));
        let qr = to_qr_text(&jws);
        assert!(qr[QR_PREFIX.len()..].bytes().all(|b| b.is_ascii_digit()));
        // Two digits per character, its code point less 45: the lowest, '.', '0' and the highest.
        assert_eq!(to_qr_text("-.0z"), format!("{QR_PREFIX}00010377"));
        assert_eq!(verify(&qr, &keys, 1_795_000_001).unwrap().pn, "সুমিতা দাস");
    }

    fn deflated(bytes: &[u8]) -> Vec<u8> {
        let mut deflater =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        deflater.write_all(bytes).unwrap();
        deflater.finish().unwrap()
    }

    #[test]
    fn the_reused_inflater_inflates_each_stream_whole_and_refuses_bad_ones() {
        let limit = MAX_CLAIMS_BYTES as usize;
        // One thread's inflater, one stream after another: small, large (several growths of
        // the output), exactly the limit, and a small one again after a refused one.
        let small = br#"{"v":1}"#.to_vec();
        let large: Vec<u8> = (0..15_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let at_limit = vec![b'x'; limit];
        for bytes in [&small, &large, &at_limit, &small] {
            let inflated = inflate(&deflated(bytes));
            assert!(
                inflated.as_deref() == Some(&bytes[..]),
                "{} bytes",
                bytes.len()
            );
        }
        // Beyond the limit (a small stream of zeros that inflates past it), cut short, garbage.
        assert!(inflate(&deflated(&vec![0; limit + 1])).is_none());
        let whole = deflated(&large);
        assert!(inflate(&whole[..whole.len() / 2]).is_none());
        assert!(inflate(&[0xff; 64]).is_none());
        assert!(inflate(&deflated(&small)).as_deref() == Some(&small[..]));
    }

    #[test]
    fn tampering_unknown_keys_and_expiry_are_told_apart() {
        let signing = key(1);
        let keys = vec![Jwk::ed25519(&signing.verifying_key().to_bytes())];
        let jws = sign(&claims(1), &signing);
        let mut bytes = jws.clone().into_bytes();
        let middle = jws.find('.').unwrap() + 5;
        bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert_eq!(verify(&altered, &keys, 0), Err(VerifyError::Tampered));
        let stranger = sign(&claims(1), &key(2));
        assert_eq!(verify(&stranger, &keys, 0), Err(VerifyError::UnknownKey));
        assert_eq!(
            verify(&jws, &keys, 1_797_592_000),
            Err(VerifyError::Expired)
        );
        // Past its validity it is still genuine, and tampering still shows.
        assert_eq!(verify_signature(&jws, &keys).unwrap(), claims(1));
        assert_eq!(
            verify_signature(&altered, &keys),
            Err(VerifyError::Tampered)
        );
        assert_eq!(verify("not a jws", &keys, 0), Err(VerifyError::Malformed));
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let jwk = Jwk::ed25519(&x.try_into().unwrap());
        assert_eq!(jwk.kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
