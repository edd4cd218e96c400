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

use std::sync::{Mutex, OnceLock, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinError;

/// At most one argon2 computation per core at a time. Each one holds 4-19 MiB while it runs:
/// unbounded, a login burst put one on every blocking thread (up to 512) and the freed blocks
/// stayed with those threads' allocator arenas, holding hundreds of MB; more computations than
/// cores at once also finish no sooner.
fn hashing_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(hashing_slots_count()))
}

/// One hashing slot per core. Found once: on Linux `available_parallelism` reads the cgroup's
/// files, and the count is asked after every hash.
fn hashing_slots_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| std::thread::available_parallelism().map_or(2, |cores| cores.get()))
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

fn password_params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

fn otp_params() -> Params {
    Params::new(2 * 1024, 1, 1, None).expect("valid argon2 parameters")
}

/// The most argon2 memory (in 1 KiB blocks) that is kept for the next computation: enough for
/// the OTP parameters and older 4 MiB codes, not the 19 MiB password hash (staff log in rarely).
const KEPT_BLOCKS_MAX: usize = 4 * 1024;

/// Runs `work` on argon2 working memory of `count` blocks, reusing memory a finished
/// computation gave back.
///
/// Why: with large blocks returned to the system (see [`return_large_blocks_to_the_system`])
/// every OTP hash mapped 2 MiB afresh, and the kernel's page faults and zeroing of those 512
/// pages cost about as much as the hash itself on a record day. argon2 writes every block
/// before reading it, so old contents do not matter. At most one buffer per hashing slot is
/// kept: about 4 MiB on two cores.
fn with_working_memory<T>(count: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    static KEPT: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
    if count > KEPT_BLOCKS_MAX {
        return work(&mut vec![Block::default(); count]);
    }
    let kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut blocks = kept.unwrap_or_default();
    if blocks.len() < count {
        blocks.resize(count, Block::default());
    }
    let result = work(&mut blocks[..count]);
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() < hashing_slots_count() {
        kept.push(blocks);
    }
    result
}

/// The raw argon2 output of `secret` with `salt` under the given algorithm, version and
/// parameters (the output length is the parameters' own, 32 bytes by default).
fn argon2_output(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    secret: &[u8],
    salt: &Salt<'_>,
) -> password_hash::Result<Output> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let count = params.block_count();
    let hasher = Argon2::new(algorithm, version, params);
    with_working_memory(count, |blocks| {
        Output::init_with(output_len, |out| {
            Ok(hasher.hash_password_into_with_memory(secret, salt_bytes, out, blocks)?)
        })
    })
}

/// A PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`) of `secret` under `params`
/// with a fresh random salt.
fn hash_with(params: Params, secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    let params_string = ParamsString::try_from(&params).expect("argon2 parameters print");
    let output = argon2_output(
        Algorithm::Argon2id,
        Version::V0x13,
        params,
        secret.as_bytes(),
        &salt.as_salt(),
    )
    .expect("argon2 hashing with valid parameters cannot fail");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params_string,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string()
}

/// Verifies against a PHC string; the algorithm, version and parameters come from the string
/// itself, so hashes made with older parameters still verify. `Output`'s comparison takes the
/// same time wherever the outputs differ.
fn verify_with(phc: &str, secret: &str) -> bool {
    let verify = || -> password_hash::Result<bool> {
        let parsed = PasswordHash::new(phc)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = parsed.version.map(Version::try_from).transpose()?;
        let params = Params::try_from(&parsed)?;
        let computed = argon2_output(
            algorithm,
            version.unwrap_or_default(),
            params,
            secret.as_bytes(),
            &salt,
        )?;
        Ok(computed == expected)
    };
    verify().unwrap_or(false)
}

pub fn hash_password(password: &str) -> String {
    hash_with(password_params(), password)
}

pub fn verify_password(phc: &str, password: &str) -> bool {
    verify_with(phc, password)
}

/// Spends the same time as a real password check, for unknown or disabled users, so the
/// answer's timing does not tell who has an account.
pub fn verify_dummy_password(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a real password, only for timing"));
    let _ = verify_password(dummy, password);
}

pub fn hash_otp(code: &str) -> String {
    hash_with(otp_params(), code)
}

pub fn verify_otp(phc: &str, code: &str) -> bool {
    verify_with(phc, code)
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

    /// The hashes made on reused working memory are argon2's own: the crate's standard hasher
    /// and verifier agree with ours both ways, whatever size the memory last held.
    #[test]
    fn hashes_on_reused_memory_match_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4 * 1024, 1, 1, None).unwrap(),
        );
        for round in 0..3 {
            let code = format!("65432{round}");
            let salt = SaltString::generate(&mut OsRng);
            let theirs = older
                .hash_password(code.as_bytes(), &salt)
                .unwrap()
                .to_string();
            assert!(
                verify_otp(&theirs, &code),
                "a 4 MiB code made by the crate verifies"
            );
            assert!(!verify_otp(&theirs, "000000"));

            let ours = hash_otp(&code);
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(Argon2::default()
                .verify_password(code.as_bytes(), &parsed)
                .is_ok());
            assert!(Argon2::default()
                .verify_password(b"000000", &parsed)
                .is_err());
        }
        let password = hash_password("a staff password");
        let parsed = PasswordHash::new(&password).unwrap();
        assert!(Argon2::default()
            .verify_password(b"a staff password", &parsed)
            .is_ok());
        assert!(!verify_otp(
            "$argon2id$v=19$m=2048,t=1,p=1$c2FsdHNhbHQ",
            "123456"
        ));
    }
}
