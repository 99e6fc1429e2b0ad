//! The one-process native run, SIGKILLed: nothing acknowledged is lost.

use platform_testkit::native::Layout;

use crate::start;

/// The event of a registration was published to the embedded broker, and the run was killed
/// before the profile could be created (the region's database refused connections). The
/// restarted run has a new, empty broker: only the outbox still has the event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_acknowledged_before_a_sigkill_gets_its_profile_after_the_restart() {
    let mut run = start(Layout::OneProcess).await;
    run.refuse_connections("user_eu", true).await;
    let account = run.register("eu").await;

    // Acknowledged by the broker: the relay marked the outbox row sent.
    let auth = run.database("auth").await;
    run.eventually("the event to reach the broker", || {
        let (auth, user_id) = (auth.clone(), account.user_id.clone());
        async move {
            sqlx::query_scalar::<_, bool>(
                "select exists (select 1 from outbox where key = $1 and sent_at is not null)",
            )
            .bind(user_id)
            .fetch_one(&auth)
            .await
            .unwrap()
        }
    })
    .await;
    auth.close().await;

    run.kill_all();
    run.refuse_connections("user_eu", false).await;
    run.restart().await;
    run.until_profile(&account).await;
}
