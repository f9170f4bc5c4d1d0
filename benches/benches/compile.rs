//! Control-plane compile time: `turnpike_adapter::compile` over definitions generated in memory,
//! 100 APIs × 10 resources (1,000) and 100 APIs × 100 resources (10,000), each resource with
//! GET + POST, one policy on half of them, endpoints on loopback (`127.0.0.1:port`, no DNS).
//!
//! Run with `cargo bench -p turnpike-benches --bench compile`. Each iteration builds the whole
//! snapshot (conflict checks, cluster interning, route table, router) from cloned definitions,
//! as a reload does; target: 10,000 resources well under 200 ms.

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
                    }],
                })
                .collect(),
            lifecycle: "PUBLISHED".to_owned(),
            default_version: false,
            default_base_path: None,
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

criterion_group!(benches, bench_compile);
criterion_main!(benches);
