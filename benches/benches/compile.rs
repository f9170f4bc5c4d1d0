//! Control-plane compile time: `turnpike_adapter::compile` over definitions generated in memory,
//! 100 APIs × 10 resources (1,000) and 100 APIs × 100 resources (10,000), each resource with
//! GET + POST, one policy on half of them, endpoints on loopback (`127.0.0.1:port`, no DNS).
//!
//! Run with `cargo bench -p turnpike-benches --bench compile`. Each iteration builds the whole
//! snapshot (conflict checks, cluster interning, route table, router) from cloned definitions,
//! as a reload does; target: 10,000 resources well under 200 ms.
//!
//! `deploy/...` measures what an operator waits for: compile, publish to a running data plane of
//! two workers (one per core here), and wait until every core has acknowledged the new version;
//! target: 10,000 resources in under 200 ms.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use turnpike_adapter::compile;
use turnpike_adapter::openapi::{
    ApiDefinition, Balance, EndpointSet, Method, Resource, ResourceRoute,
};
use turnpike_core::{Endpoint, Settings};
use turnpike_policy::{BuiltinPolicy, Direction, HeaderEdit, HeaderMediation};

const APIS: usize = 100;

fn endpoint(port: u16, path: &str) -> EndpointSet {
    EndpointSet {
        balance: Balance::Single,
        endpoints: vec![Endpoint {
            addr: ([127, 0, 0, 1], port).into(),
            authority: format!("127.0.0.1:{port}"),
            base_path: path.to_owned(),
            tls: None,
        }],
    }
}

/// Resource `n`: literal, one-param and two-param templates in turn.
fn template(n: usize) -> String {
    match n % 3 {
        0 => format!("/resource{n}"),
        1 => format!("/resource{n}/{{id}}"),
        _ => format!("/resource{n}/{{id}}/items/{{itemId}}"),
    }
}

fn definitions(resources_per_api: usize) -> Vec<ApiDefinition> {
    let policy = BuiltinPolicy::Headers(
        HeaderMediation::new(
            Direction::Request,
            vec![HeaderEdit::Set { name: "x-bench".into(), value: "1".into() }],
        )
        .unwrap_or_else(|err| panic!("{err}")),
    );
    (0..APIS)
        .map(|api| ApiDefinition {
            file: PathBuf::from(format!("api{api}/api.yaml")),
            name: format!("Service{api}"),
            version: "1.0.0".to_owned(),
            base_path: format!("/service{api}/1.0.0"),
            vhost: None,
            resources: (0..resources_per_api)
                .map(|n| Resource {
                    template: template(n),
                    pointer: format!("/paths/{n}"),
                    routes: vec![ResourceRoute {
                        methods: vec![Method::Get, Method::Post],
                        // A few distinct clusters per API, shared across resources.
                        production: endpoint(8000 + (api % 50) as u16, &format!("/b{}", n % 4)),
                        sandbox: None,
                        policies: if n % 2 == 0 { vec![policy.clone()] } else { Vec::new() },
                        mock: None,
                        security: Default::default(),
                    }],
                })
                .collect(),
            lifecycle: "PUBLISHED".to_owned(),
            default_version: false,
            default_base_path: None,
            endpoint_certs: Default::default(),
            client_certificates: Default::default(),
        })
        .collect()
}

fn bench_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    for per_api in [10, 100] {
        let defs = definitions(per_api);
        let total = APIS * per_api;
        group.bench_with_input(BenchmarkId::new("resources", total), &defs, |b, defs| {
            b.iter(|| {
                let snapshot = compile(black_box(defs), Settings::default())
                    .unwrap_or_else(|err| panic!("{err}"));
                black_box(snapshot.routes.len())
            })
        });
    }
    group.finish();
}

fn bench_compile_and_publish(c: &mut Criterion) {
    let mut group = c.benchmark_group("deploy");
    group.sample_size(20);
    let config = turnpike_core::StaticConfig {
        listen: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
        workers: 2,
        pin_workers: false,
        ..turnpike_core::StaticConfig::default()
    };
    let first =
        compile(&definitions(10), Settings::default()).unwrap_or_else(|err| panic!("{err}"));
    let handle = turnpike_core::start(config, first).unwrap_or_else(|err| panic!("{err}"));
    for per_api in [10, 100] {
        let defs = definitions(per_api);
        let total = APIS * per_api;
        group.bench_with_input(BenchmarkId::new("compile+publish+ack", total), &defs, |b, defs| {
            b.iter(|| {
                let snapshot = compile(black_box(defs), Settings::default())
                    .unwrap_or_else(|err| panic!("{err}"));
                let version = handle.publish(snapshot);
                assert!(handle.wait_acknowledged(version, std::time::Duration::from_secs(5)));
            })
        });
    }
    group.finish();
    handle.shutdown();
}

criterion_group!(benches, bench_compile, bench_compile_and_publish);
criterion_main!(benches);
