//! PostgreSQL access: the pool, embedded migrations, and one repository module per table group.

pub mod agents;
pub mod calls;
pub mod dialing;
pub mod inbox;
pub mod prepared;
pub mod presence;
pub mod routing;
pub mod schema;
pub mod sessions;
mod text_enums;
pub mod tls;

use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

use prepared::KeepPrepared;

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;
/// What repository functions take: a pooled connection or one inside a transaction.
pub type PgConn = AsyncPgConnection;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Pool(#[from] PoolError),
    #[error("a row with this {0} already exists")]
    UniqueViolation(&'static str),
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
    /// A statement made for several requests at once failed; each of them is told this.
    #[error("{0}")]
    Shared(String),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let constraint = info.constraint_name().unwrap_or_default();
                let what = if constraint.contains("email") {
                    "email"
                } else if constraint.contains("client_identity") {
                    "client_identity"
                } else {
                    "key"
                };
                DbError::UniqueViolation(what)
            }
            _ => DbError::Query(e),
        }
    }
}

/// Builds the connection pool. Connections are opened lazily, so this succeeds while the
/// database is down and the pool recovers by itself once it is back.
pub fn pool(database_url: &str, max_size: usize) -> Result<DbPool, DbError> {
    let target = tls::plan(database_url).map_err(DbError::Migration)?;
    let mut config = ManagerConfig::default();
    // A pooled connection is handed out without a test query (the default runs `SELECT 1`
    // first, a round trip on every checkout). One whose socket closed or whose transaction was
    // left open is still dropped, and a query on a connection that died unnoticed fails like
    // any query when the database goes away.
    config.recycling_method = RecyclingMethod::Fast;
    if target.tls == tls::PgTls::Verified {
        config.custom_setup = Box::new(tls::establish_tls);
    }
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(target.url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .recycle_timeout(Some(std::time::Duration::from_secs(5)))
        .runtime(deadpool_runtime())
        .build()
        .map_err(|e| DbError::Migration(format!("cannot build pool: {e}")))
}

fn deadpool_runtime() -> deadpool::Runtime {
    deadpool::Runtime::Tokio1
}

/// The session-level advisory lock migrations run under (an arbitrary constant naming it among
/// the database's advisory locks).
const MIGRATION_LOCK_KEY: i64 = 7_341_955_022;

/// Applies pending migrations and returns the versions applied. Instances starting together
/// take turns under an advisory lock: the first applies them, the others then find none pending
/// (without it two would race to apply the same migration, and one would fail its start).
pub async fn run_migrations(database_url: &str) -> Result<Vec<String>, DbError> {
    use diesel::Connection;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
    use diesel_migrations::MigrationHarness;

    let target = tls::plan(database_url).map_err(DbError::Migration)?;
    let cannot_connect =
        |e: diesel::ConnectionError| DbError::Migration(format!("cannot connect: {e}"));
    // Over TLS the connection is opened here, on the runtime that drives it.
    let tls_conn = match target.tls {
        tls::PgTls::Off => None,
        tls::PgTls::Verified => Some(
            tls::establish_tls(&target.url)
                .await
                .map_err(cannot_connect)?,
        ),
    };
    // The migration harness is synchronous; run it on a blocking thread with its own handle.
    tokio::task::spawn_blocking(move || {
        let mut conn = match tls_conn {
            Some(conn) => AsyncConnectionWrapper::<AsyncPgConnection>::from(conn),
            None => AsyncConnectionWrapper::<AsyncPgConnection>::establish(&target.url)
                .map_err(cannot_connect)?,
        };
        let lock_failed = |e: diesel::result::Error| {
            DbError::Migration(format!("cannot take the migration lock: {e}"))
        };
        // Held until unlocked or the connection closes, whatever becomes of the migrations.
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")),
            &mut conn,
        )
        .map_err(lock_failed)?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(|v| v.to_string()).collect::<Vec<_>>())
            .map_err(|e| DbError::Migration(e.to_string()));
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")),
            &mut conn,
        )
        .map_err(lock_failed)?;
        applied
    })
    .await
    .map_err(|e| DbError::Migration(format!("migration task failed: {e}")))?
}

/// A cheap round trip, for readiness checks.
pub async fn ping(pool: &DbPool) -> Result<(), DbError> {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await?;
    diesel::sql_query("SELECT 1")
        .keep_prepared()
        .execute(&mut conn)
        .await?;
    Ok(())
}
