//! Argon2id password hashing. Hashing is deliberately slow, so callers run it off the async
//! threads, on two dedicated threads behind a bounded queue.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::domain::agent::Password;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue is full: the caller should come back later instead of waiting in line.
    #[error("the password checkers are busy")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Threads that do all password hashing. Argon2 takes ~19 MiB per hash; glibc keeps such
/// buffers in a per-thread arena after use, so hashing on tokio's many blocking threads made the
/// process grow by that much per thread that ever hashed. Two fixed threads bound it.
const HASHING_THREADS: usize = 2;

/// Password jobs admitted at once, running or waiting: about half a second of work for the two
/// threads. Past it, callers are turned away at once ([`HashError::Busy`]), so a flood of
/// sign-ins queues neither unbounded work nor the requests (and resources) waiting on it.
pub const MAX_QUEUED: usize = 32;

static ADMITTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A place in the hashing queue, taken before any other work so a request that would be turned
/// away costs nothing; freed when its job has run, or when it is dropped unused.
#[must_use]
pub struct Slot(());

impl Slot {
    pub fn try_take() -> Result<Slot, HashError> {
        use std::sync::atomic::Ordering;
        ADMITTED
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_QUEUED).then_some(n + 1)
            })
            .map(|_| Slot(()))
            .map_err(|_| HashError::Busy)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        ADMITTED.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

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

/// Runs password work (hash or verify) on the hashing threads, off the async runtime, if the
/// queue has room.
pub async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    run(Slot::try_take()?, work).await
}

/// Runs password work in a place taken earlier.
pub async fn run<T: Send + 'static>(
    slot: Slot,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _slot = slot;
        // Nobody waits for the answer any more (the client went away): skip the work.
        if !tx.is_closed() {
            let _ = tx.send(work());
        }
    });
    hashing_queue()
        .lock()
        .map_err(|_| HashError::Failed("hashing queue poisoned".into()))?
        .send(job)
        .map_err(|_| HashError::Failed("hashing threads stopped".into()))?;
    rx.await
        .map_err(|_| HashError::Failed("hashing job dropped".into()))
}

pub fn hash(password: &Password) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
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
