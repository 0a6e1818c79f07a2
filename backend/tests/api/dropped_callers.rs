//! Never drop a caller: a caller whose conference could not be set up is brought back into it,
//! and a caller who hangs up before reaching the conference is never offered to an agent.

use twilio_sim::{CallStatus, Heard, HeardSource, WebhookKind};

use crate::voice::{agent_leg, connected, customer, timeline_kinds, CallCenter, WAIT};

/// The customer's waitUrl fails once: Twilio drops them from the half-made conference and
/// follows the `<Dial action>`, which puts them back in; an agent then answers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_whose_wait_url_fails_is_rejoined_and_answered() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    cc.sim.fail_next_wait_urls(1);

    let customer_sid = cc.customer_calls().await;
    // Back in a conference after the failed one, still on the line, hearing the wait music.
    let snapshot = cc
        .sim
        .wait_for(
            |s| {
                let Some(call) = s.call(&customer_sid) else {
                    return false;
                };
                let failed_once = call.heard.iter().any(|h| {
                    matches!(
                        h,
                        Heard::FetchFailed {
                            source: HeardSource::WaitUrl,
                            ..
                        }
                    )
                });
                failed_once
                    && s.conference_of(&customer_sid).is_some()
                    && call.heard_from(HeardSource::WaitUrl)
                    && call.heard.iter().any(|h| {
                        matches!(
                            h,
                            Heard::Play {
                                source: HeardSource::WaitUrl,
                                ..
                            }
                        )
                    })
            },
            WAIT,
        )
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the caller was not rejoined: {:#?}",
                e.last.call(&customer_sid)
            )
        });
    assert_eq!(
        snapshot.call(&customer_sid).unwrap().status,
        CallStatus::InProgress
    );
    let action = cc
        .sim
        .webhook_log()
        .into_iter()
        .find(|r| r.kind == WebhookKind::DialAction)
        .expect("Twilio followed the Dial action");
    assert_eq!(action.param("DialCallStatus"), Some("failed"));
    assert_eq!(action.response_status, Some(200), "{action:#?}");

    // An agent comes free and answers: the caller is talking to them.
    let agent = cc.agent("rescuer", true).await;
    cc.answer(&agent).await;
    let call = cc
        .my_call_until(&agent, "the rejoined caller answered", |c| {
            c["status"] == "in_progress"
                && connected(agent_leg(c, &agent))
                && connected(customer(c))
        })
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let conference = cc
        .sim
        .snapshot()
        .conference_of(&customer_sid)
        .cloned()
        .expect("the caller is in a conference");
    assert_eq!(conference.participants.len(), 2, "{conference:#?}");
    let detail = cc
        .call_until(&admin, &call_id, "the rejoin on the timeline", |c| {
            timeline_kinds(c).contains(&"customer_rejoined".to_owned())
        })
        .await;
    assert_eq!(detail["status"], "in_progress");
    assert!(conference
        .participants
        .iter()
        .any(|p| p.call_sid == customer_sid));
}

/// The caller hangs up after the voice webhook answered but before their `<Dial>` ran: no
/// conference ever hears of them. They are never offered to an agent, the call ends abandoned
/// once they fail to arrive in time, and the agent stays free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_hangs_up_before_the_dial_is_never_offered_to_an_agent() {
    let cc = CallCenter::start_with(1, |env| {
        env.insert("CUSTOMER_JOIN_TIMEOUT_SECONDS".to_owned(), "1".to_owned());
    })
    .await;
    let admin = cc.admin().await;
    let agent = cc.agent("idle", true).await;

    let customer_sid = cc
        .sim
        .dial_in_and_hang_up_before_twiml(crate::voice::CUSTOMER);
    let snapshot = cc
        .sim
        .wait_for(
            |s| s.call(&customer_sid).is_some_and(|c| c.status.is_final()),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        snapshot.call(&customer_sid).unwrap().status,
        CallStatus::Canceled
    );

    let page = cc
        .app()
        .poll(
            "/api/calls?limit=10",
            Some(&admin),
            "the call abandoned",
            |page| {
                page["items"]
                    .as_array()
                    .is_some_and(|items| items.len() == 1 && items[0]["status"] == "abandoned")
            },
        )
        .await;
    let call_id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let call = cc
        .call_until(&admin, &call_id, "the call's detail", |c| {
            c["status"] == "abandoned"
        })
        .await;
    assert!(
        timeline_kinds(&call).contains(&"customer_never_joined".to_owned()),
        "{call:#}"
    );
    assert!(
        call["participants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["kind"] == "customer"),
        "no agent leg: {call:#}"
    );
    assert!(call["ended_at"].is_string());

    // Nothing ever rang the agent, and they are still free for the next caller.
    assert!(
        cc.sim
            .snapshot()
            .calls
            .iter()
            .all(|c| c.to != agent.client()),
        "the agent's browser was rung"
    );
    assert_eq!(cc.agent_status(&agent).await, "available");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(cc.sim.ringing_for(&agent.client()).is_empty());
    assert_eq!(cc.agent_status(&agent).await, "available");
}
