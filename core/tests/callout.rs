//! Policy callouts carried out by core: a real worker runtime, real loopback services, and the
//! request a policy would build (e.g. OAuth2 token introspection).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use turnpike_core::counters::WorkerCounters;
use turnpike_core::deadline::TICK;
use turnpike_core::proxy::callout;
use turnpike_core::proxy::UpstreamFailure;
use turnpike_core::router::Router;
use turnpike_core::worker::Worker;
use turnpike_core::{runtime, Cluster, ClusterId, Driver, Endpoint, Settings, Snapshot};
use turnpike_policy::Callout;

/// A keep-alive service that answers every request with a chunked JSON body.
fn introspection_service() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    // One request: head + 5-byte body ("token").
                    while !(buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.ends_with(b"token")) {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.clear();
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n7\r\n{\"activ\r\n7\r\ne\":true\r\n1\r\n}\r\n0\r\n\r\n";
                    if stream.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Accepts connections and never answers.
fn silent_service() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    addr
}

fn snapshot(service: SocketAddr, response_timeout: Duration) -> Snapshot {
    let mut settings = Settings::default();
    settings.timeouts.upstream_response = response_timeout;
    Snapshot {
        version: 1,
        apis: vec![],
        routes: vec![],
        clusters: vec![Cluster {
            id: ClusterId(1),
            endpoints: vec![Endpoint {
                addr: service,
                authority: service.to_string(),
                base_path: String::new(),
                tls: None,
            }],
        }],
        router: Router::empty(),
        settings,
        security: Default::default(),
    }
}

fn introspect() -> Callout {
    Callout {
        cluster: 0,
        request: b"POST /introspect HTTP/1.1\r\nhost: idp\r\ncontent-length: 5\r\n\r\ntoken"
            .to_vec(),
        max_in_flight: 16,
    }
}

/// Runs `test` on a worker of its own runtime, with its deadline sweeper.
fn on_worker<F, Fut>(snap: Snapshot, test: F)
where
    F: FnOnce(Rc<Worker>, Arc<Snapshot>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (mut rt, _) = runtime::build(Driver::Epoll, 256).unwrap();
    rt.block_on(async move {
        let snap = Arc::new(snap);
        let worker = Rc::new(
            Worker::new(0, Arc::clone(&snap), Arc::new(WorkerCounters::default()), None).unwrap(),
        );
        let sweeping = Rc::clone(&worker);
        runtime::spawn(async move {
            loop {
                runtime::sleep(TICK).await;
                sweeping.deadlines.sweep();
            }
        });
        test(worker, snap).await;
    });
}

#[test]
fn callout_reads_a_chunked_answer_and_reuses_the_connection() {
    let service = introspection_service();
    on_worker(snapshot(service, Duration::from_secs(5)), |worker, snap| async move {
        let deadline = worker.deadlines.register();
        for _ in 0..2 {
            let reply = callout::perform(&worker, &snap, &deadline, &introspect()).await.unwrap();
            assert_eq!(reply.head.status, 200);
            assert_eq!(reply.body, b"{\"active\":true}");
            let ctype = reply.head.header(&reply.raw, "content-type");
            assert_eq!(ctype, Some(&b"application/json"[..]));
        }
        let counters = worker.counters.read();
        assert_eq!(counters.upstream_connects, 1);
        assert_eq!(counters.upstream_reuses, 1);
    });
}

#[test]
fn callout_to_a_closed_port_is_unavailable() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    on_worker(snapshot(closed, Duration::from_secs(5)), |worker, snap| async move {
        let deadline = worker.deadlines.register();
        let result = callout::perform(&worker, &snap, &deadline, &introspect()).await;
        assert!(matches!(result, Err(UpstreamFailure::Unavailable)), "{result:?}");
    });
}

#[test]
fn callout_without_an_answer_times_out_on_the_deadline() {
    let service = silent_service();
    on_worker(snapshot(service, Duration::from_millis(200)), |worker, snap| async move {
        let deadline = worker.deadlines.register();
        let began = Instant::now();
        let result = callout::perform(&worker, &snap, &deadline, &introspect()).await;
        assert!(matches!(result, Err(UpstreamFailure::TimedOut)), "{result:?}");
        let took = began.elapsed();
        assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(2), "{took:?}");
    });
}
