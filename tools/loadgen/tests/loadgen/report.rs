//! The report: percentiles from the recorded latencies, one line per templated route,
//! errors by status with timeouts and transport errors apart.

use std::time::Duration;

use platform_loadgen::{Metrics, Outcome, Route};

fn close(actual: f64, expected: f64) -> bool {
    // HDR histograms at 3 significant figures: within 0.1 %.
    (actual - expected).abs() <= expected * 0.001 + 1e-9
}

#[test]
fn percentiles_and_max_come_from_the_recorded_latencies() {
    let metrics = Metrics::default();
    for ms in 1..=100 {
        metrics.record(
            Route::ME.name,
            Duration::from_millis(ms),
            &Outcome::answer(200, "{}"),
        );
    }
    let route = &metrics.routes(Duration::from_secs(10))[0];
    assert_eq!(route.requests, 100);
    assert_eq!(route.ok, 100);
    assert!(close(route.per_second, 10.0), "{}", route.per_second);
    assert!(close(route.p50_ms, 50.0), "p50 {}", route.p50_ms);
    assert!(close(route.p90_ms, 90.0), "p90 {}", route.p90_ms);
    assert!(close(route.p99_ms, 99.0), "p99 {}", route.p99_ms);
    assert!(close(route.max_ms, 100.0), "max {}", route.max_ms);
}

#[test]
fn requests_are_grouped_by_templated_route_with_errors_by_status() {
    let metrics = Metrics::default();
    let ms = Duration::from_millis;
    // Two different ids, one route.
    metrics.record(Route::USER.name, ms(2), &Outcome::answer(200, "{}"));
    metrics.record(Route::USER.name, ms(4), &Outcome::answer(404, "{}"));
    metrics.record(Route::USER.name, ms(4), &Outcome::answer(404, "{}"));
    metrics.record(Route::USER.name, ms(10_000), &Outcome::Timeout);
    metrics.record(Route::PATCH_ME.name, ms(3), &Outcome::answer(503, "{}"));
    metrics.record(
        Route::PATCH_ME.name,
        ms(1),
        &Outcome::Transport("connection refused".into()),
    );
    metrics.record(Route::ME.name, ms(6), &Outcome::answer(200, "{}"));

    let routes = metrics.routes(Duration::from_secs(1));
    let names: Vec<&str> = routes.iter().map(|r| r.route.as_str()).collect();
    assert_eq!(
        names,
        [
            "GET /v1/users/me",
            "GET /v1/users/{id}",
            "PATCH /v1/users/me"
        ]
    );
    let user = &routes[1];
    assert_eq!((user.requests, user.ok, user.timeouts), (4, 1, 1));
    assert_eq!(user.errors.get(&404), Some(&2));
    // The timeout has no latency: the slowest answer is 4 ms, not 10 s.
    assert!(close(user.max_ms, 4.0), "{}", user.max_ms);
    assert_eq!(user.error_summary(), "404×2 timeout×1");
    let patch = &routes[2];
    assert_eq!((patch.requests, patch.transport_errors), (2, 1));
    assert_eq!(patch.errors.get(&503), Some(&1));
    assert_eq!(patch.error_summary(), "503×1 transport×1");

    let total = metrics.total(Duration::from_secs(1));
    assert_eq!(total.route, "total");
    assert_eq!((total.requests, total.ok), (7, 2));
    assert_eq!((total.timeouts, total.transport_errors), (1, 1));
    assert_eq!(total.errors.get(&404), Some(&2));
    assert!(close(total.max_ms, 6.0), "{}", total.max_ms);
    assert_eq!(metrics.totals(), (7, 5));
}

#[test]
fn an_empty_route_list_reports_zeroes() {
    let total = Metrics::default().total(Duration::ZERO);
    assert_eq!(
        (total.requests, total.per_second, total.p99_ms),
        (0, 0.0, 0.0)
    );
    assert_eq!(total.error_summary(), "-");
}
