use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::helpers::create_database;

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_apply_to_an_empty_database_once() {
    let url = create_database().await;
    let applied = warm_transfer::db::run_migrations(&url).await.unwrap();
    assert!(!applied.is_empty());
    let again = warm_transfer::db::run_migrations(&url).await.unwrap();
    assert!(again.is_empty(), "second run applied {again:?}");

    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    let tables: Vec<TableName> = diesel::sql_query(
        "SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.table_name.as_str()).collect();
    for expected in [
        "agents",
        "login_failures",
        "sessions",
        "dialing_policy",
        "outside_dials",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

/// Replicas starting together on an empty database: each runs the migrations at start, they take
/// turns under the advisory lock, so every start succeeds and each migration is applied once.
#[tokio::test(flavor = "multi_thread")]
async fn instances_migrating_at_once_apply_each_migration_once() {
    let url = create_database().await;
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let url = url.clone();
        starts.spawn(async move { warm_transfer::db::run_migrations(&url).await });
    }
    let mut applied: Vec<String> = Vec::new();
    while let Some(run) = starts.join_next().await {
        let versions = run
            .unwrap()
            .unwrap_or_else(|e| panic!("a start failed: {e}"));
        applied.extend(versions);
    }
    let expected = warm_transfer::db::run_migrations(&url).await.unwrap();
    assert!(expected.is_empty(), "left pending: {expected:?}");
    let mut unique = applied.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), applied.len(), "applied twice: {applied:?}");
    assert!(!applied.is_empty());
}

/// Every status value is written and read back through its one text mapping, and a value the
/// code does not know (a corrupt row) reads as an error, not as some default.
#[tokio::test(flavor = "multi_thread")]
async fn statuses_round_trip_through_text_columns_and_unknown_values_are_errors() {
    use diesel::sql_types::Text;
    use diesel::IntoSql;
    use warm_transfer::domain::agent::{AgentStatus, Role};
    use warm_transfer::domain::call::{
        CallStatus, ParticipantKind, ParticipantStatus, TransferMode, TransferStatus,
    };

    let url = create_database().await;
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();

    macro_rules! round_trip {
        ($($ty:ty),+) => {$(
            for value in <$ty>::ALL.iter().copied() {
                let back: $ty = diesel::select(value.into_sql::<Text>())
                    .get_result(&mut conn)
                    .await
                    .unwrap();
                assert_eq!(back, value);
                let text: String = diesel::select(value.into_sql::<Text>())
                    .get_result(&mut conn)
                    .await
                    .unwrap();
                assert_eq!(text, value.as_str());
            }
            let corrupt = diesel::select("no_such_status".into_sql::<Text>())
                .get_result::<$ty>(&mut conn)
                .await
                .unwrap_err();
            assert!(format!("{corrupt:?}").contains("no_such_status"), "{corrupt:?}");
        )+};
    }
    round_trip!(
        Role,
        AgentStatus,
        CallStatus,
        ParticipantKind,
        ParticipantStatus,
        TransferMode,
        TransferStatus
    );
}
