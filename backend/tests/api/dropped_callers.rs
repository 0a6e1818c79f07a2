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
