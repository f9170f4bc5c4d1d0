//! `turnpike-backend --listen 127.0.0.1:8081`: the test backend as a standalone server.
//!
//! Answers every request with a small JSON echo (method, target, version, headers as received,
//! body length and digest), keeping connections alive. It is the example origin that the
//! README's run command starts; it records nothing, so it can run indefinitely.

use std::net::SocketAddr;

use turnpike_tests::Backend;

fn main() {
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8081));
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => {
                let v = args.next().unwrap_or_else(|| usage("--listen needs an address"));
                listen = v.parse().unwrap_or_else(|e| usage(&format!("bad address {v:?}: {e}")));
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let backend = Backend::builder().no_record().listen(listen).try_start().unwrap_or_else(|e| {
        eprintln!("turnpike-backend: cannot listen on {listen}: {e}");
        std::process::exit(1);
    });
    eprintln!("turnpike-backend: listening on http://{}", backend.addr());
    backend.join();
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("turnpike-backend: {msg}");
    }
    eprintln!("usage: turnpike-backend [--listen 127.0.0.1:8081]");
    std::process::exit(if msg.is_empty() { 0 } else { 2 });
}
