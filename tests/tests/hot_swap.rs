//! Hot deployment through the watched API directory, against the real binary: files written
//! atomically (temporary name, then rename) are deployed, redeployed and undeployed without a
//! restart; a broken file is rejected while the previous APIs keep serving; and 100 redeploys
//! in a row under continuous keep-alive load lose no request, each response coming from exactly
//! one snapshot, versions never going backwards on a connection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use turnpike_tests::{wait_until, wildcard_api, Backend, Client, Gateway, GatewayConfig};

/// A gateway watching its API directory with a short debounce and no admin listener.
fn config() -> GatewayConfig {
    let mut cfg = GatewayConfig::new().toml("[apis]\ndebounce_ms = 30");
    cfg.args.extend(["--admin-listen".to_owned(), "off".to_owned()]);
    cfg
}

/// [`wildcard_api`] under its own title (name + version identify an API).
fn named(title: &str, base_path: &str, url: &str) -> String {
    wildcard_api(base_path, url).replace("title: Wild", &format!("title: {title}"))
}

/// Writes `apis/<name>` atomically: a dotfile, then a rename over the target.
fn write_api(gw: &Gateway, name: &str, text: impl AsRef<[u8]>) {
    let dir = gw.dir().join("apis");
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).expect("write temporary definition");
    std::fs::rename(&tmp, dir.join(name)).expect("rename definition into place");
}

fn status(gw: &Gateway, path: &str) -> u16 {
    turnpike_tests::client::get(gw.addr(), path).status
}

fn wait_status(gw: &Gateway, path: &str, want: u16, what: &str) {
    let ok = wait_until(Duration::from_secs(10), || status(gw, path) == want);
    assert!(ok, "{what}: GET {path} never answered {want}; stderr:\n{}", gw.stderr());
}

/// The `/v<N>` version prefix of the upstream target the echo backend saw.
fn served_version(resp: &turnpike_tests::Response) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
    let target = v["target"].as_str()?;
    let rest = target.strip_prefix("/v")?;
    rest.split('/').next()?.parse().ok()
}

#[test]
fn directory_deploy_redeploy_undeploy() {
    let backend = Backend::echo();
    let gw = Gateway::start(config().api("a.yaml", wildcard_api("/a", &backend.url("/one"))));
    assert_eq!(status(&gw, "/a/x"), 200);
    assert_eq!(status(&gw, "/b/x"), 404);

    // Deploy a second API.
    write_api(&gw, "b.yaml", named("B", "/b", &backend.url("/v1")));
    wait_status(&gw, "/b/x", 200, "deploy");
    assert_eq!(status(&gw, "/a/x"), 200, "the first API still serves");

    // Redeploy it with another endpoint path.
    write_api(&gw, "b.yaml", named("B", "/b", &backend.url("/v2")));
    let ok = wait_until(Duration::from_secs(10), || {
        served_version(&turnpike_tests::client::get(gw.addr(), "/b/x")) == Some(2)
    });
    assert!(ok, "redeploy never took effect; stderr:\n{}", gw.stderr());

    // Undeploy it.
    std::fs::remove_file(gw.dir().join("apis/b.yaml")).expect("remove definition");
    wait_status(&gw, "/b/x", 404, "undeploy");
    assert_eq!(status(&gw, "/a/x"), 200, "the first API still serves");
}

/// Regression: a keep-alive connection used to hold the snapshot of its previous request while
/// it idled, so its next request was served by a snapshot already replaced.
#[test]
fn an_idle_keep_alive_connection_serves_its_next_request_from_the_new_snapshot() {
    let backend = Backend::echo();
    let gw = Gateway::start(
        config()
            .api("a.yaml", wildcard_api("/a", &backend.url("/one")))
            .api("b.yaml", named("B", "/b", &backend.url("/v1"))),
    );
    let mut kept = gw.client();
    let get = |c: &mut Client| c.request(b"GET /b/x HTTP/1.1\r\nHost: a\r\n\r\n").status;
    assert_eq!(get(&mut kept), 200);
    std::fs::remove_file(gw.dir().join("apis/b.yaml")).expect("remove definition");
    // One worker: once a new connection sees the undeploy, the core serves the new snapshot.
    wait_status(&gw, "/b/x", 404, "undeploy");
    assert_eq!(get(&mut kept), 404, "the idle connection's next request");
}

#[test]
fn broken_definition_is_rejected_and_old_apis_keep_serving() {
    let backend = Backend::echo();
    let gw = Gateway::start(config().api("a.yaml", wildcard_api("/a", &backend.url(""))));
    // Half a definition (as if still being written in place), then a broken value.
    std::fs::write(gw.dir().join("apis/c.yaml"), "openapi: 3.0.3\ninfo: {title: C").unwrap();
    let rejected = wait_until(Duration::from_secs(10), || gw.stderr().contains("rejected"));
    assert!(rejected, "no rejection logged; stderr:\n{}", gw.stderr());
    assert!(gw.stderr().contains("c.yaml"), "the error names the file:\n{}", gw.stderr());
    assert_eq!(status(&gw, "/a/x"), 200, "the old snapshot keeps serving");
    assert_eq!(status(&gw, "/c/x"), 404);

    // Also refused: a definition conflicting with a deployed one (same base path).
    write_api(&gw, "d.yaml", named("D", "/a", &backend.url("/other")));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(status(&gw, "/a/x"), 200);
    std::fs::remove_file(gw.dir().join("apis/d.yaml")).unwrap();

    // Fixing the file deploys it (the next change is retried).
    write_api(&gw, "c.yaml", named("C", "/c", &backend.url("")));
    wait_status(&gw, "/c/x", 200, "fixed definition");
    assert_eq!(status(&gw, "/a/x"), 200);
}

#[test]
fn changed_settings_apply_and_static_changes_are_reported() {
    let backend = Backend::echo();
    let gw = Gateway::start(config().api("a.yaml", wildcard_api("/a", &backend.url(""))));
    let via = |gw: &Gateway| {
        let resp = turnpike_tests::client::get(gw.addr(), "/a/x");
        resp.header("via").map(str::to_owned)
    };
    assert_eq!(via(&gw), None);
    // `[security]` as the harness started it (APIs without security stay open): it reloads too.
    let toml =
        "[apis]\ndebounce_ms = 30\n[proxy]\nvia = \"1.1 hot\"\n[runtime]\npin_workers = false\n\
                [security]\ndefault = \"none\"\n";
    let path = gw.dir().join("gateway.toml");
    let tmp = gw.dir().join(".gateway.toml.tmp");
    std::fs::write(&tmp, toml).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let ok = wait_until(Duration::from_secs(10), || via(&gw).as_deref() == Some("1.1 hot"));
    assert!(ok, "new [proxy] via never applied; stderr:\n{}", gw.stderr());
    let warned = wait_until(Duration::from_secs(5), || {
        gw.stderr().contains("restart required for runtime.pin_workers")
    });
    assert!(warned, "no restart warning; stderr:\n{}", gw.stderr());

    // An invalid file keeps the running settings.
    std::fs::write(&tmp, "[proxy]\nvia = 7\n").unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let logged = wait_until(Duration::from_secs(10), || {
        gw.stderr().contains("configuration change rejected")
    });
    assert!(logged, "invalid config not reported; stderr:\n{}", gw.stderr());
    assert_eq!(via(&gw).as_deref(), Some("1.1 hot"));
}

#[test]
fn hundred_redeploys_under_load_lose_nothing() {
    const CLIENTS: usize = 4;
    const REDEPLOYS: u64 = 100;
    let began = Instant::now();
    let backend = Backend::builder().no_record().start();
    let api = |n: u64| wildcard_api("/api", &backend.url(&format!("/v{n}")));
    let gw = Gateway::start(config().workers(2).api("api.yaml", api(1)));
    let addr = gw.addr();
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for id in 0..CLIENTS {
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || -> Result<Vec<u64>, String> {
            let mut client = Client::try_connect(addr).map_err(|e| format!("connect: {e}"))?;
            let mut versions = Vec::new();
            let request = format!("GET /api/c{id} HTTP/1.1\r\nHost: gw\r\n\r\n");
            while !stop.load(Ordering::Relaxed) {
                client
                    .try_send(request.as_bytes())
                    .map_err(|e| format!("request {}: send: {e}", versions.len()))?;
                let resp = client
                    .try_read(false, true)
                    .map_err(|e| format!("request {}: read: {e}", versions.len()))?;
                if resp.status != 200 {
                    return Err(format!("request {}: {}", versions.len(), resp.describe()));
                }
                let v = served_version(&resp)
                    .ok_or_else(|| format!("no version in {}", resp.describe()))?;
                if let Some(&last) = versions.last() {
                    if v < last {
                        return Err(format!("version went back from {last} to {v}"));
                    }
                }
                versions.push(v);
            }
            Ok(versions)
        }));
    }
    let mut probe = Client::connect(addr);
    for n in 2..=REDEPLOYS + 1 {
        write_api(&gw, "api.yaml", api(n));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let resp = probe.request(b"GET /api/probe HTTP/1.1\r\nHost: gw\r\n\r\n");
            assert_eq!(resp.status, 200, "probe: {}", resp.describe());
            if served_version(&resp) == Some(n) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "redeploy {n} not served within 5 s; stderr:\n{}",
                gw.stderr()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    let mut seen = std::collections::BTreeSet::new();
    for (id, t) in threads.into_iter().enumerate() {
        let versions = t
            .join()
            .expect("client thread")
            .unwrap_or_else(|e| panic!("client {id} failed: {e}; stderr:\n{}", tail(&gw.stderr())));
        assert!(!versions.is_empty(), "client {id} sent nothing");
        total += versions.len();
        seen.extend(versions);
    }
    assert!(seen.contains(&(REDEPLOYS + 1)), "the last version was served");
    assert!(seen.len() > 10, "load spanned many versions: {seen:?}");
    let took = began.elapsed();
    assert!(took < Duration::from_secs(60), "took {took:?}");
    eprintln!("{total} requests over {} versions in {took:?}", seen.len());
    drop(backend);
}

fn tail(s: &str) -> &str {
    let mut start = s.len().saturating_sub(4000);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}
