//! Hand-written SQL that each pooled connection keeps prepared.
//!
//! Diesel never caches a `sql_query`, because its text may be built at run time: every call
//! then costs a Parse/Describe round trip and a fresh plan before the Bind/Execute one. Ours
//! are constants (or built once per process), so caching them by their text is safe, and
//! after its first use on a connection such a statement is one round trip.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::QueryResult;

/// A `diesel::sql_query` (with its binds) that the connection keeps prepared, keyed by its
/// text and bind types. Only for SQL whose text is fixed, or one of a few variants: each
/// distinct text stays cached on every pooled connection for the connection's life.
#[derive(Debug, Clone, Copy)]
#[must_use = "Queries are only executed when calling `load`, `get_result` or similar."]
pub struct KeptPrepared<Q>(Q);

pub trait KeepPrepared: Sized {
    /// Keeps this fixed-text statement prepared on the connection (see [`KeptPrepared`]).
    fn keep_prepared(self) -> KeptPrepared<Self> {
        KeptPrepared(self)
    }
}

impl<Q: Query + QueryFragment<Pg>> KeepPrepared for Q {}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for KeptPrepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    // `sql_query` marks itself unsafe to cache whatever its text; this text is fixed.
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for KeptPrepared<Q> {
    type QueryId = ();
    // Not a static type id: the cache key is then the SQL text and the bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for KeptPrepared<Q> {
    type SqlType = Q::SqlType;
}
