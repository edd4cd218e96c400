//! Argon2id hashing for passwords and one-time codes, and SHA-256 for session tokens.
//!
//! Passwords use OWASP's recommended argon2id parameters (19 MiB, 2 passes, 1 lane): a stolen
//! database must not give up people's passwords cheaply.
//!
//! OTPs use deliberately light parameters: argon2id with 2 MiB and 1 pass. Why so light: a
//! 6-digit code has only 10^6 values, so whoever steals the table can try them all whatever the
//! cost per try (at 2 MiB about 10 core-minutes; at OWASP's 19 MiB/2 passes about 4 core-hours,
//! nothing to a rented GPU fleet), and the code is dead by then anyway: it expires after 5
//! minutes, is single use and locks after 5 wrong tries. What the hash does is keep live codes
//! out of plain sight in the database, its backups and dumps, which any argon2id cost achieves.
//! So the parameters are chosen for the login rate and memory instead: every login computes
//! two hashes (one when the code is sent, one when it is checked), at most one per core at a
//! time. Measured on this 2-core machine (release): 4 MiB took about 1.2-3.6 ms and 2 MiB about
//! 0.6-1.7 ms (idle-busy), so 2 MiB leaves room for 500+ verifications a second beside the rest
//! of the server, with 2 MiB held per computation. Older codes hashed with other parameters
//! still verify: the parameters are read from the stored hash.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinError;

/// At most one argon2 computation per core at a time. Each one holds 4-19 MiB while it runs:
/// unbounded, a login burst put one on every blocking thread (up to 512) and the freed blocks
/// stayed with those threads' allocator arenas, holding hundreds of MB; more computations than
/// cores at once also finish no sooner.
fn hashing_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, |cores| cores.get()))
    })
}

/// Makes every freed block of 256 KiB or more go straight back to the system. Call once at start.
///
/// Why: argon2 takes 2-19 MiB per computation, on whichever blocking thread runs it. glibc raises
/// its mmap threshold when the first such block is freed (the dynamic threshold), and from then
/// on serves these blocks from its per-thread arenas (up to 8 per core), which keep the memory.
/// Measured under the load generator: about 16 anonymous regions of 58-64 MB each, fully
/// resident, and a peak of 0.5-1 GB after a few thousand logins; with the threshold fixed at
/// 256 KiB (fixing it turns the dynamic adjustment off) the same run peaked at 53 MB. Few other
/// allocations are this large, and an mmap per argon2 computation costs far less than the
/// computation.
pub fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocator settings; M_MMAP_THRESHOLD takes a size.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// Runs an argon2 computation off the async threads, waiting for a free slot first.
pub async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JoinError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .expect("the hashing semaphore is never closed");
    tokio::task::spawn_blocking(work).await
}

fn password_hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn otp_hasher() -> Argon2<'static> {
    let params = Params::new(2 * 1024, 1, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_with(hasher: &Argon2<'_>, secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// Verifies against a PHC string; the parameters come from the string itself, so hashes made
/// with older parameters still verify.
fn verify_with(hasher: &Argon2<'_>, phc: &str, secret: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher.verify_password(secret.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

pub fn hash_password(password: &str) -> String {
    hash_with(&password_hasher(), password)
}

pub fn verify_password(phc: &str, password: &str) -> bool {
    verify_with(&password_hasher(), phc, password)
}

/// Spends the same time as a real password check, for unknown or disabled users, so the
/// answer's timing does not tell who has an account.
pub fn verify_dummy_password(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a real password, only for timing"));
    let _ = verify_password(dummy, password);
}

pub fn hash_otp(code: &str) -> String {
    hash_with(&otp_hasher(), code)
}

pub fn verify_otp(phc: &str, code: &str) -> bool {
    verify_with(&otp_hasher(), phc, code)
}

/// Spends the time of a real code check, when there is no code to check against.
pub fn verify_dummy_otp(code: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_otp("dummy code"));
    let _ = verify_otp(dummy, code);
}

/// Session tokens carry 256 random bits, so a fast hash is enough to store them safely.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_is_argon2id_and_verifies_only_the_right_password() {
        let phc = hash_password("correct horse battery");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(&phc, "correct horse battery"));
        assert!(!verify_password(&phc, "correct horse battery!"));
        assert!(!verify_password("not a hash", "anything"));
    }

    #[test]
    fn otp_hash_uses_light_parameters_and_a_fresh_salt() {
        let a = hash_otp("123456");
        let b = hash_otp("123456");
        assert!(a.starts_with("$argon2id$v=19$m=2048,t=1,p=1$"));
        assert_ne!(a, b);
        assert!(verify_otp(&a, "123456"));
        assert!(!verify_otp(&a, "123457"));
    }
}
