//! Argon2id password hashing. Hashing is deliberately slow, so callers run it off the async threads.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::domain::agent::Password;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Threads that do all password hashing. Argon2 takes ~19 MiB per hash; glibc keeps such
/// buffers in a per-thread arena after use, so hashing on tokio's many blocking threads made the
/// process grow by that much per thread that ever hashed. Two fixed threads bound it.
const HASHING_THREADS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

fn hashing_queue() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<Job>> {
    static QUEUE: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> =
        std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..HASHING_THREADS {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("spawn a password hashing thread");
        }
        std::sync::Mutex::new(tx)
    })
}

/// Runs password work (hash or verify) on the hashing threads, off the async runtime.
pub async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(work());
    });
    hashing_queue()
        .lock()
        .map_err(|_| HashError("hashing queue poisoned".into()))?
        .send(job)
        .map_err(|_| HashError("hashing threads stopped".into()))?;
    rx.await
        .map_err(|_| HashError("hashing job dropped".into()))
}

pub fn hash(password: &Password) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Checks a password against a stored PHC string; a malformed hash counts as a mismatch.
pub fn verify(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A valid hash of a random password, verified against when the email is unknown so that
/// "no such agent" and "wrong password" take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let random = uuid::Uuid::new_v4().to_string();
        hash(&Password::parse(&random).expect("a uuid is long enough"))
            .expect("hashing a fixed-size input")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_hashing_threads() {
        let name = off_thread(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("password-hash-"));
        let p = Password::parse("correct horse battery staple").unwrap();
        let h = off_thread(move || hash(&p)).await.unwrap().unwrap();
        assert!(
            off_thread(move || verify("correct horse battery staple", &h))
                .await
                .unwrap()
        );
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let p = Password::parse("correct horse battery staple").unwrap();
        let h = hash(&p).unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapler", &h));
        assert!(!verify("anything", "not a hash"));
        assert_ne!(h, hash(&p).unwrap(), "salted");
    }
}
