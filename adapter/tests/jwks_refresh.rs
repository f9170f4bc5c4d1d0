//! The JWKS refresher thread against a loopback key manager that counts its requests: the
//! startup fetch, a spray of unknown `kid`s costing at most one more fetch, and a rotated key set
//! reaching `on_change` after a miss once `min_refetch` has passed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use turnpike_adapter::security::{spawn_refresher, FetchOptions, JwksSource, Url};
use turnpike_policy::base64::encode_url;
use turnpike_policy::jose::KeySet;

const MIN_REFETCH: Duration = Duration::from_millis(300);

/// A JWKS of shared secrets: `(kid, byte)` → a 32-byte secret of that byte.
fn jwks(keys: &[(&str, u8)]) -> Vec<u8> {
    let keys: Vec<String> = keys
        .iter()
        .map(|(kid, b)| format!(r#"{{"kty":"oct","kid":"{kid}","k":"{}"}}"#, encode_url(&[*b; 32])))
        .collect();
    format!(r#"{{"keys":[{}]}}"#, keys.join(",")).into_bytes()
}

fn kids(keys: &KeySet) -> Vec<String> {
    keys.keys().filter_map(|k| k.kid()).map(str::to_owned).collect()
}

/// A key manager serving whatever `document` holds, chunked, counting requests.
fn key_manager(document: Arc<Mutex<Vec<u8>>>, requests: Arc<AtomicUsize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            assert!(head.starts_with(b"GET /.well-known/jwks.json HTTP/1.1\r\n"));
            requests.fetch_add(1, Ordering::SeqCst);
            let body = document.lock().unwrap().clone();
            let mut response =
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .to_vec();
            response.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            response.extend_from_slice(&body);
            response.extend_from_slice(b"\r\n0\r\n\r\n");
            let _ = stream.write_all(&response);
        }
    });
    port
}

#[test]
fn refresher_rate_limits_kid_misses_and_reports_changes() {
    let document = Arc::new(Mutex::new(jwks(&[("k1", 1)])));
    let requests = Arc::new(AtomicUsize::new(0));
    let port = key_manager(document.clone(), requests.clone());
    let url = Url::parse(&format!("http://127.0.0.1:{port}/.well-known/jwks.json")).unwrap();
    let source = JwksSource {
        refresh: Duration::from_secs(3600),
        min_refetch: MIN_REFETCH,
        ..JwksSource::new("idp", url)
    };
    let (changes, changed) = mpsc::channel();
    let on_change = move |source: &JwksSource, keys: Arc<KeySet>| {
        changes.send((source.name.clone(), kids(&keys))).unwrap();
    };
    let handle = spawn_refresher(vec![source], on_change, FetchOptions::default()).unwrap();

    // The startup fetch reports the first key set.
    let first = changed.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first, ("idp".to_owned(), vec!["k1".to_owned()]));
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    // A spray of unknown kids: at most one more fetch (when min_refetch has passed), and no
    // change to report since the document is the same.
    for _ in 0..100 {
        assert!(handle.kid_miss.send("idp"));
    }
    assert!(handle.kid_miss.send("unknown-issuer"));
    thread::sleep(MIN_REFETCH * 2 + Duration::from_millis(100));
    let fetched = requests.load(Ordering::SeqCst);
    assert!((1..=2).contains(&fetched), "{fetched} fetches");
    assert!(changed.try_recv().is_err());

    // The key manager rotates; a miss after min_refetch fetches and reports the new set.
    *document.lock().unwrap() = jwks(&[("k2", 2)]);
    thread::sleep(MIN_REFETCH + Duration::from_millis(50));
    let before = requests.load(Ordering::SeqCst);
    assert!(handle.kid_miss.send("idp"));
    let rotated = changed.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(rotated, ("idp".to_owned(), vec!["k2".to_owned()]));
    assert_eq!(requests.load(Ordering::SeqCst), before + 1);

    // Stop returns promptly (the thread is idle until the hourly refresh).
    let stopping = Instant::now();
    let sender = handle.kid_miss.clone();
    handle.stop();
    assert!(stopping.elapsed() < Duration::from_secs(2));
    assert!(!sender.send("idp"), "the refresher is gone");
}

#[test]
fn refresher_keeps_trying_an_unreachable_key_manager() {
    // Nothing listens: the startup fetch fails, no change is reported, stop still works.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/jwks")).unwrap();
    let (changes, changed) = mpsc::channel();
    let handle = spawn_refresher(
        vec![JwksSource::new("idp", url)],
        move |source: &JwksSource, _keys: Arc<KeySet>| changes.send(source.name.clone()).unwrap(),
        FetchOptions::default(),
    )
    .unwrap();
    thread::sleep(Duration::from_millis(200));
    assert!(changed.try_recv().is_err());
    drop(handle); // dropping stops and joins the thread too
    assert!(matches!(changed.try_recv(), Err(mpsc::TryRecvError::Disconnected)));
}
