//! The daemon's retry and jitter timings.
use super::*;

#[test]
fn retries_follow_the_outage_age_and_retry_after() {
    for _ in 0..50 {
        let soon = retry_delay(Duration::from_secs(5), None);
        assert!(soon <= Duration::from_millis(2_500), "{soon:?}");
        let long = retry_delay(Duration::from_secs(3_600), None);
        assert!(long >= Duration::from_secs(150) && long <= Duration::from_secs(300));
        let told = retry_delay(Duration::from_secs(1), Some(Duration::from_secs(30)));
        assert!(told >= Duration::from_secs(30));
    }
}

#[test]
fn backoff_grows_and_caps() {
    for _ in 0..50 {
        let first = backoff(1);
        assert!(
            first >= Duration::from_secs(1) && first <= Duration::from_secs(2),
            "{first:?}"
        );
        let late = backoff(30);
        assert!(
            late >= Duration::from_secs(150) && late <= Duration::from_secs(300),
            "{late:?}"
        );
        let j = jittered(Duration::from_secs(60));
        assert!(
            j >= Duration::from_secs(54) && j <= Duration::from_secs(66),
            "{j:?}"
        );
    }
}
