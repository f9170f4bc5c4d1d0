//! Route lookup cost on a realistic table: 100 APIs × 20 templates each (literal, `{param}` and
//! nested-parameter resources), measuring a matching path, a path that exists but not for the
//! method (405) and a path that matches no API (404).
//!
//! Run with `cargo bench -p turnpike-benches --bench route_lookup`. The router is built once; each
//! iteration is one `Router::lookup` reusing the same params vector, as `exchange` does.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use turnpike_core::router::{Lookup, RouteSpec, Router};
use turnpike_core::RouteIndex;

const APIS: u32 = 100;
const TEMPLATES: u32 = 20;

/// Template `n` of every API: a mix of literal, one-param and two-param resources.
fn template(n: u32) -> String {
    match n % 4 {
        0 => format!("/resource{n}"),
        1 => format!("/resource{n}/{{id}}"),
        2 => format!("/resource{n}/{{id}}/items/{{itemId}}"),
        _ => format!("/resource{n}/{{id}}/actions/*"),
    }
}

fn table() -> Router {
    let mut specs = Vec::new();
    for api in 0..APIS {
        for n in 0..TEMPLATES {
            specs.push(RouteSpec {
                vhost: None,
                base_path: format!("/service{api}/v1"),
                template: template(n),
                methods: vec!["GET".to_owned(), "PUT".to_owned()],
                route: RouteIndex(api * TEMPLATES + n),
            });
        }
    }
    match Router::build(specs) {
        Ok(router) => router,
        Err(err) => panic!("benchmark table does not build: {err}"),
    }
}

fn route_lookup(c: &mut Criterion) {
    let router = table();
    let mut params = Vec::with_capacity(8);
    let host = Some(&b"gateway.example.com:9090"[..]);

    let hit = b"/service73/v1/resource18/abc-123/items/42";
    assert_eq!(router.lookup(host, b"GET", hit, &mut params), Lookup::Matched(RouteIndex(1478)));
    c.bench_function("route_lookup/match", |b| {
        b.iter(|| router.lookup(black_box(host), black_box(b"GET"), black_box(hit), &mut params))
    });

    let not_allowed = b"/service73/v1/resource17/abc-123";
    assert!(matches!(
        router.lookup(host, b"DELETE", not_allowed, &mut params),
        Lookup::MethodNotAllowed { .. }
    ));
    c.bench_function("route_lookup/405", |b| {
        b.iter(|| {
            router.lookup(
                black_box(host),
                black_box(b"DELETE"),
                black_box(not_allowed),
                &mut params,
            )
        })
    });

    let missing = b"/service73/v2/resource17/abc-123";
    assert_eq!(router.lookup(host, b"GET", missing, &mut params), Lookup::NotFound);
    c.bench_function("route_lookup/404", |b| {
        b.iter(|| {
            router.lookup(black_box(host), black_box(b"GET"), black_box(missing), &mut params)
        })
    });
}

criterion_group!(benches, route_lookup);
criterion_main!(benches);
