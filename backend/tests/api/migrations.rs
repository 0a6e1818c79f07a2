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
    for expected in ["agents", "login_failures", "sessions"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}
