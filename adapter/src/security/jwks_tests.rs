//! Tests of [`super::Refresher`] with a manual time base: startup, periodic refresh, the kid-miss
//! rate limit, failure backoff and change detection.

use super::*;
use turnpike_policy::base64::encode_url;

const REFRESH: Duration = Duration::from_secs(300);
const MIN_REFETCH: Duration = Duration::from_secs(30);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A JWKS of shared secrets: `(kid, byte)` → a 32-byte secret of that byte.
fn jwks(keys: &[(&str, u8)]) -> Vec<u8> {
    let keys: Vec<String> = keys
        .iter()
        .map(|(kid, b)| format!(r#"{{"kty":"oct","kid":"{kid}","k":"{}"}}"#, encode_url(&[*b; 32])))
        .collect();
    format!(r#"{{"keys":[{}]}}"#, keys.join(",")).into_bytes()
}

fn kids(keys: &KeySet) -> Vec<&str> {
    keys.keys().filter_map(|k| k.kid()).collect()
}

fn source(name: &str) -> JwksSource {
    let url = Url::parse(&format!("https://{name}.example/jwks")).unwrap();
    JwksSource { refresh: REFRESH, min_refetch: MIN_REFETCH, ..JwksSource::new(name, url) }
}

fn failed(name: &str) -> Result<Vec<u8>, FetchError> {
    Err(FetchError::Status { url: format!("https://{name}.example/jwks"), status: 503 })
}

/// A refresher over issuers `a` and `b`, both loaded at `t0`.
fn loaded(t0: Instant) -> Refresher {
    let mut r = Refresher::new([source("a"), source("b")], t0);
    assert!(r.on_fetched("a", Ok(jwks(&[("a1", 1)])), t0).is_some());
    assert!(r.on_fetched("b", Ok(jwks(&[("b1", 2)])), t0).is_some());
    r
}

#[test]
fn everything_is_due_at_start_then_every_refresh() {
    let t0 = Instant::now();
    let r = Refresher::new([source("b"), source("a")], t0);
    assert_eq!(r.issuers().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(r.due(t0), ["a", "b"]);
    assert_eq!(r.next_due(), Some(t0));
    assert!(Refresher::new([], t0).next_due().is_none());

    let r = loaded(t0);
    assert!(r.due(t0 + secs(299)).is_empty());
    assert_eq!(r.next_due(), Some(t0 + REFRESH));
    assert_eq!(r.due(t0 + REFRESH), ["a", "b"]);
    assert_eq!(r.last_success("a"), Some(t0));
    assert_eq!(kids(&r.keys("b").unwrap()), ["b1"]);
}

#[test]
fn kid_misses_are_rate_limited() {
    let t0 = Instant::now();
    let mut r = loaded(t0);
    // A spray of unknown kids right after a fetch: no fetch, one remembered miss.
    for i in 0..1000 {
        assert!(!r.on_kid_miss("a", t0 + Duration::from_millis(i)));
    }
    assert!(r.due(t0 + secs(29)).is_empty());
    assert_eq!(r.next_due(), Some(t0 + MIN_REFETCH));
    assert_eq!(r.due(t0 + MIN_REFETCH), ["a"]);
    // The remembered miss is served by that fetch; the next period is counted from it.
    let t1 = t0 + MIN_REFETCH;
    assert!(r.on_fetched("a", Ok(jwks(&[("a1", 1)])), t1).is_none());
    assert!(r.due(t1 + secs(299)).iter().all(|name| name == "b"));
    assert_eq!(r.due(t1 + REFRESH), ["a", "b"]);

    // Once min_refetch has passed, one miss fetches at once and takes the slot.
    let t2 = t1 + MIN_REFETCH;
    assert!(r.on_kid_miss("a", t2));
    assert!(!r.on_kid_miss("a", t2));
    assert!(!r.on_kid_miss("a", t2 + secs(29)));
    // Issuers are limited separately; unknown issuers never fetch.
    assert!(r.on_kid_miss("b", t2));
    assert!(!r.on_kid_miss("nobody", t2));
    // The fetch ends a second later: the window restarts from its end.
    assert!(r.on_fetched("a", Ok(jwks(&[("a1", 1)])), t2 + secs(1)).is_none());
    assert!(!r.on_kid_miss("a", t2 + secs(30)));
    assert!(r.on_kid_miss("a", t2 + secs(31)));
}

#[test]
fn a_kid_miss_before_the_first_fetch_is_allowed() {
    let t0 = Instant::now();
    let mut r = Refresher::new([source("a")], t0);
    assert!(r.on_kid_miss("a", t0));
    assert!(r.due(t0).is_empty(), "the miss took the startup fetch's place");
    assert!(!r.on_kid_miss("a", t0 + secs(1)));
}

#[test]
fn failures_back_off_exponentially_up_to_refresh() {
    let t0 = Instant::now();
    let mut r = loaded(t0);
    let mut t = t0 + REFRESH;
    let mut waits = Vec::new();
    for _ in 0..7 {
        assert!(r.due(t).contains(&"a".to_owned()));
        assert!(r.on_fetched("a", failed("a"), t).is_none());
        let a_due = |r: &Refresher, at: Instant| r.due(at).contains(&"a".to_owned());
        let wait = (1..=REFRESH.as_secs()).map(secs).find(|&w| a_due(&r, t + w)).unwrap();
        waits.push(wait.as_secs());
        t += wait;
    }
    assert_eq!(waits, [30, 60, 120, 240, 300, 300, 300]);
    assert_eq!(r.failures("a"), 7);
    // The old keys stay through the failures; a success resets the backoff.
    assert_eq!(kids(&r.keys("a").unwrap()), ["a1"]);
    assert_eq!(r.last_success("a"), Some(t0));
    assert!(r.on_fetched("a", Ok(jwks(&[("a1", 1)])), t).is_none());
    assert_eq!(r.failures("a"), 0);
    assert_eq!(r.last_success("a"), Some(t));
    assert!(!r.due(t + secs(299)).contains(&"a".to_owned()));
    assert!(r.due(t + REFRESH).contains(&"a".to_owned()));
}

#[test]
fn backoff_never_drops_below_one_second() {
    let t0 = Instant::now();
    let fast = JwksSource { refresh: Duration::ZERO, min_refetch: Duration::ZERO, ..source("a") };
    let mut r = Refresher::new([fast], t0);
    assert!(r.on_fetched("a", failed("a"), t0).is_none());
    assert!(r.due(t0 + Duration::from_millis(999)).is_empty());
    assert_eq!(r.due(t0 + MIN_INTERVAL), ["a"]);
    assert!(r.on_fetched("a", Ok(jwks(&[("a1", 1)])), t0).is_some());
    assert!(r.due(t0 + Duration::from_millis(999)).is_empty());
    // Zero min_refetch: every miss may fetch (the configuration's choice).
    assert!(r.on_kid_miss("a", t0));
}

#[test]
fn detects_changes() {
    let t0 = Instant::now();
    let mut r = loaded(t0);
    let first = r.keys("a").unwrap();
    // Same bytes, or the same JSON reformatted: unchanged, same Arc.
    assert!(r.on_fetched("a", Ok(jwks(&[("a1", 1)])), t0 + secs(1)).is_none());
    let spaced = String::from_utf8(jwks(&[("a1", 1)])).unwrap().replace(',', " ,\n ");
    let reordered = spaced.replace(r#""kty":"oct","kid":"a1""#, r#""kid":"a1" , "kty":"oct""#);
    assert!(r.on_fetched("a", Ok(reordered.into_bytes()), t0 + secs(2)).is_none());
    assert!(Arc::ptr_eq(&first, &r.keys("a").unwrap()));
    // A new key, then new material under an old kid: both are changes.
    let added = r.on_fetched("a", Ok(jwks(&[("a1", 1), ("a2", 3)])), t0 + secs(3)).unwrap();
    assert_eq!(kids(&added), ["a1", "a2"]);
    let rotated = r.on_fetched("a", Ok(jwks(&[("a1", 9), ("a2", 3)])), t0 + secs(4)).unwrap();
    assert_eq!(kids(&rotated), ["a1", "a2"]);
    assert!(Arc::ptr_eq(&rotated, &r.keys("a").unwrap()));
    // The other issuer is untouched.
    assert_eq!(kids(&r.keys("b").unwrap()), ["b1"]);
}

#[test]
fn bad_documents_keep_the_old_keys() {
    let t0 = Instant::now();
    let mut r = loaded(t0);
    let bad: [&[u8]; 4] = [
        b"<html>maintenance</html>",
        br#"{"keys":"none"}"#,
        br#"{"keys":[{"kty":"oct","k":"AAAA"},{"kty":"EC"}],"keys":[]}"#,
        br#"{"keys":[{"kty":"oct","kid":"x","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},{"kty":"EC"}]}"#,
    ];
    for (i, body) in (1..).zip(bad) {
        let t = t0 + secs(i);
        assert!(r.on_fetched("a", Ok(body.to_vec()), t).is_none(), "{i}");
        assert_eq!(r.failures("a"), u32::try_from(i).unwrap());
        assert_eq!(kids(&r.keys("a").unwrap()), ["a1"]);
        // The failure is followed by a backoff, not the full refresh period.
        assert!(r.due(t + REFRESH).contains(&"a".to_owned()));
    }
    // An issuer that never got keys stays without.
    let mut fresh = Refresher::new([source("c")], t0);
    assert!(fresh.on_fetched("c", failed("c"), t0).is_none());
    assert!(fresh.keys("c").is_none());
    assert!(fresh.on_fetched("nobody", Ok(jwks(&[("x", 1)])), t0).is_none());
}

#[test]
fn an_empty_set_is_a_change() {
    let t0 = Instant::now();
    let mut r = loaded(t0);
    let empty = r.on_fetched("a", Ok(br#"{"keys":[]}"#.to_vec()), t0 + secs(1)).unwrap();
    assert!(empty.is_empty());
    assert_eq!(r.failures("a"), 0);
}

#[test]
fn new_sources_keep_unchanged_issuers_and_start_over_for_the_rest() {
    let t0 = Instant::now();
    let mut r = loaded(t0);
    let moved =
        JwksSource { url: Url::parse("https://b.example/new-jwks").unwrap(), ..source("b") };
    let slower = JwksSource { refresh: REFRESH * 2, ..source("a") };
    let fresh = r.set_sources([slower, moved, source("c")]);
    assert_eq!(fresh, ["b", "c"], "a changed URL and a new issuer start over");
    assert_eq!(r.issuers().collect::<Vec<_>>(), ["a", "b", "c"]);
    // `a` keeps its keys and last fetch, under its new period.
    assert_eq!(kids(&r.keys("a").unwrap()), ["a1"]);
    assert_eq!(r.last_success("a"), Some(t0));
    assert!(!r.due(t0 + REFRESH).contains(&"a".to_owned()));
    // `b` (new URL) and `c` are due at once and have no keys yet.
    assert!(r.keys("b").is_none() && r.keys("c").is_none());
    assert_eq!(r.due(t0 + secs(1)), ["b", "c"]);
    assert_eq!(r.source("b").map(|s| s.url.to_string()), Some("https://b.example/new-jwks".into()));

    // Removing every source forgets them: nothing is due, kid misses are ignored.
    assert!(r.set_sources([]).is_empty());
    assert!(r.next_due().is_none());
    assert!(!r.on_kid_miss("a", t0 + REFRESH * 3));
}
