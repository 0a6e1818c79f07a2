//! What runs all the time reads live rows, never the whole history: the router's upkeep passes
//! (every half second, on every instance) and the live board. With many finished calls stored,
//! none of them scans the calls or legs table.

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

use crate::helpers::TestApp;
use warm_transfer::db::{routing, PgConn};

/// What one transaction read of a table: whole-table scans, and rows read by them or fetched
/// through an index.
#[derive(QueryableByName, Debug)]
struct Reads {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq_scan: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    rows: i64,
}

impl Reads {
    fn since(&self, before: &Reads) -> Reads {
        Reads {
            seq_scan: self.seq_scan - before.seq_scan,
            rows: self.rows - before.rows,
        }
    }
}

const FINISHED_CALLS: i64 = 40_000;

/// Runs `statements` one after the other.
async fn execute_all(conn: &mut PgConn, statements: impl IntoIterator<Item = String>) {
    for statement in statements {
        diesel::sql_query(statement).execute(conn).await.unwrap();
    }
}

/// What `run` reads of the legs and the calls tables, in a transaction rolled back after it.
/// Counted before anything is flushed: the counters may hold earlier reads too (they are
/// flushed now and then), so what counts is the growth.
async fn reads_of<T>(
    conn: &mut PgConn,
    run: impl AsyncFnOnce(&mut PgConn) -> T,
) -> (T, Reads, Reads) {
    let scans = |table: &'static str| {
        diesel::sql_query(
            "SELECT seq_scan, seq_tup_read + COALESCE(idx_tup_fetch, 0) AS rows
               FROM pg_stat_xact_user_tables WHERE relname = $1",
        )
        .bind::<diesel::sql_types::Text, _>(table)
    };
    diesel::sql_query("BEGIN").execute(conn).await.unwrap();
    let legs_before: Reads = scans("participants").get_result(conn).await.unwrap();
    let calls_before: Reads = scans("calls").get_result(conn).await.unwrap();
    let value = run(conn).await;
    let legs = scans("participants")
        .get_result::<Reads>(conn)
        .await
        .unwrap()
        .since(&legs_before);
    let calls = scans("calls")
        .get_result::<Reads>(conn)
        .await
        .unwrap()
        .since(&calls_before);
    diesel::sql_query("ROLLBACK").execute(conn).await.unwrap();
    (value, legs, calls)
}

#[tokio::test]
async fn upkeep_passes_and_the_live_board_read_live_rows_not_the_history() {
    let app = TestApp::spawn().await;
    let mut conn = app.state.pool.get().await.unwrap();
    // A history of finished calls, each with its customer's leg, and three live calls: one
    // whose caller never reached the conference, one whose agent leg has rung for ten minutes,
    // and one in conversation for an hour.
    let seed = [
        format!(
            "INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                                status, queued_at, created_at, ended_at)
             SELECT gen_random_uuid(), 'CA' || md5(i::text), '+14155550000', '+15005550006',
                    'wt_' || md5(i::text), 'completed', now() - interval '2 days',
                    now() - interval '2 days', now() - interval '2 days'
             FROM generate_series(1, {FINISHED_CALLS}) AS i"
        ),
        "INSERT INTO participants (id, call_id, kind, phone, call_sid, status,
                                   end_conference_on_exit, created_at, joined_at, left_at)
         SELECT gen_random_uuid(), id, 'customer', from_number, customer_call_sid, 'left', true,
                created_at, created_at, ended_at
         FROM calls"
            .into(),
        "INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                            status, queued_at, created_at)
         VALUES ('00000000-0000-4000-8000-000000000001', 'CA00000000000000000000000000000001',
                 '+14155550001', '+15005550006', 'wt_late', 'queued',
                 now() - interval '10 minutes', now() - interval '10 minutes'),
                ('00000000-0000-4000-8000-000000000002', 'CA00000000000000000000000000000002',
                 '+14155550002', '+15005550006', 'wt_talking', 'in_progress',
                 now() - interval '1 hour', now() - interval '1 hour')"
            .into(),
        "INSERT INTO participants (id, call_id, kind, phone, call_sid, status,
                                   end_conference_on_exit, created_at, joined_at)
         VALUES ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001',
                 'customer', '+14155550001', 'CA00000000000000000000000000000001', 'dialing',
                 true, now() - interval '10 minutes', NULL),
                ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-000000000002',
                 'customer', '+14155550002', 'CA00000000000000000000000000000002', 'connected',
                 true, now() - interval '1 hour', now() - interval '1 hour')"
            .into(),
        "ANALYZE calls, participants".into(),
    ];
    execute_all(&mut conn, seed).await;

    let ((stale, connected, late, live), legs, calls) = reads_of(&mut conn, async |conn| {
        let stale = routing::stale_pending_legs(conn, chrono::Duration::minutes(5))
            .await
            .unwrap();
        let connected = routing::connected_legs(conn, chrono::Duration::minutes(30), 50)
            .await
            .unwrap();
        let late = routing::callers_not_in_their_conference(conn, chrono::Duration::minutes(5))
            .await
            .unwrap();
        let live = warm_transfer::db::calls::live_calls(conn, 500)
            .await
            .unwrap();
        (stale, connected, late, live)
    })
    .await;

    let ids = |legs: &[warm_transfer::domain::call::Participant]| {
        legs.iter().map(|p| p.id.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&stale), ["00000000-0000-4000-8000-0000000000a1"]);
    assert_eq!(ids(&connected), ["00000000-0000-4000-8000-0000000000a2"]);
    assert_eq!(ids(&late), ["00000000-0000-4000-8000-0000000000a1"]);
    let live: Vec<String> = live.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(
        live,
        [
            "00000000-0000-4000-8000-000000000002",
            "00000000-0000-4000-8000-000000000001"
        ]
    );
    // A handful of rows each (the live ones and their calls), not the history.
    for (table, reads) in [("participants", &legs), ("calls", &calls)] {
        assert!(
            reads.seq_scan == 0 && reads.rows < 50,
            "a pass or the board read {table} of {FINISHED_CALLS} finished calls: {reads:?}"
        );
    }
}

/// The router's search for the next caller walks the queue from its head and stops at the
/// first caller in their conference: callers already talking to an agent (thousands, in a busy
/// hour) and the rest of the queue are not read. It runs on every routing attempt.
#[tokio::test]
async fn the_router_finds_the_next_caller_without_reading_every_caller_on_a_call() {
    const TALKING: i64 = 3_000;
    const WAITING: i64 = 1_000;
    let app = TestApp::spawn().await;
    let mut conn = app.state.pool.get().await.unwrap();
    let seed = [
        // A history of finished calls.
        format!(
            "INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                                status, queued_at, created_at, ended_at)
             SELECT gen_random_uuid(), 'CA' || md5(i::text), '+14155550000', '+15005550006',
                    'wt_' || md5(i::text), 'completed', now() - interval '2 days',
                    now() - interval '2 days', now() - interval '2 days'
             FROM generate_series(1, {FINISHED_CALLS}) AS i"
        ),
        // Callers in conversation, each in their conference.
        format!(
            "INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                                status, queued_at, created_at)
             SELECT gen_random_uuid(), 'CA' || md5('t' || i), '+14155550000', '+15005550006',
                    'wt_t' || i, 'in_progress', now() - interval '1 hour',
                    now() - interval '1 hour'
             FROM generate_series(1, {TALKING}) AS i"
        ),
        // The queue: its oldest caller has not reached the conference yet; everyone after
        // them waits in theirs, in the order they called.
        format!(
            "INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                                status, queued_at, created_at)
             SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
                    'CA' || md5('w' || i), '+14155550000', '+15005550006', 'wt_w' || i,
                    'queued', now() - interval '1 minute' + i * interval '1 ms',
                    now() - interval '1 minute'
             FROM generate_series(0, {WAITING}) AS i"
        ),
        "INSERT INTO participants (id, call_id, kind, phone, call_sid, status,
                                   end_conference_on_exit, created_at, joined_at)
         SELECT gen_random_uuid(), id, 'customer', from_number, customer_call_sid,
                CASE WHEN status = 'completed' THEN 'left'
                     WHEN conference_name = 'wt_w0' THEN 'dialing' ELSE 'connected' END, true,
                created_at, CASE WHEN conference_name = 'wt_w0' THEN NULL ELSE created_at END
         FROM calls"
            .into(),
        "ANALYZE calls, participants".into(),
    ];
    execute_all(&mut conn, seed).await;
    let (next, legs, calls) = reads_of(&mut conn, async |conn| {
        routing::lock_next_queued_call(conn).await.unwrap()
    })
    .await;

    // The oldest caller in their conference; the one still on their way is passed over.
    assert_eq!(
        next.map(|c| c.id.to_string()).as_deref(),
        Some("00000000-0000-4000-8000-000000000001")
    );
    for (table, reads) in [("participants", &legs), ("calls", &calls)] {
        assert!(
            // One step of the walk (64 queued calls and their callers), not the thousands.
            reads.seq_scan == 0 && reads.rows < 200,
            "finding the next caller read {table} of {FINISHED_CALLS} finished calls, {TALKING} \
             in progress and {WAITING} waiting: {reads:?}"
        );
    }

    // The first 150 callers have not reached their conference: the walk goes on past its
    // first steps to the 151st, each step reading its own rows, not the queue from its head.
    diesel::sql_query(
        "UPDATE participants SET status = 'dialing', joined_at = NULL
          WHERE call_id IN (SELECT id FROM calls WHERE conference_name LIKE 'wt_w%'
                             AND id < '00000000-0000-4000-8000-000000000151')",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    let (next, _, calls) = reads_of(&mut conn, async |conn| {
        routing::lock_next_queued_call(conn).await.unwrap()
    })
    .await;
    assert_eq!(
        next.map(|c| c.id.to_string()).as_deref(),
        Some("00000000-0000-4000-8000-000000000151")
    );
    // Three steps of 64, and the third step's callers in a conference, among whom the one
    // locked; not the queue read again from its head at every step (64 + 128 + 192).
    assert!(
        calls.seq_scan == 0 && calls.rows < 4 * 64,
        "a walk three steps deep read calls: {calls:?}"
    );
}
