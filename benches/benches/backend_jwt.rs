//! Criterion benchmarks of the backend JWT (`turnpike_policy::backend_jwt`): what an
//! authenticated request pays for its `X-JWT-Assertion`.
//!
//! * `backend_jwt/sign_rs256`: a cache miss: the WSO2 claims built as JSON, a random `jti`, and an
//!   RS256 signature with RSA-2048 (the fixed test key `benches/keys/rsa-2048.pk8`).
//! * `backend_jwt/cached`: `AddBackendJwt::on_request_head` on a warm per-core cache of 4,000
//!   callers (cycling through them, each a distinct `Rc<Caller>` as the verified-token cache
//!   hands out), including the request context and the header copy it pushes: the per-request
//!   cost for a caller seen before.

use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use turnpike_policy::auth::{ApiRef, AuthMethod, AuthStateConfig, Caller, Security, Subscriptions};
use turnpike_policy::backend_jwt::{
    claims_json, load_signing_key, random_jti, AddBackendJwt, BackendJwt, BackendJwtSettings,
    ClaimInputs,
};
use turnpike_policy::{CoreState, KeyType, Policy, RequestContext, RequestView, Verdict};

const RSA_PKCS8: &[u8] = include_bytes!("../keys/rsa-2048.pk8");
const NOW: u64 = 1_700_000_000;
const CALLERS: usize = 4_000;

fn caller(i: usize) -> Caller {
    Caller {
        method: AuthMethod::Jwt,
        issuer: Some("km".into()),
        subject: format!("user-{i}@carbon.super"),
        consumer_key: Some(format!("consumer-key-{i:08}")),
        application: Some("DefaultApplication".into()),
        scopes: vec!["default".into()],
        key_type: KeyType::Production,
        jti: Some(format!("9c1f3c2e-7f0a-4f7e-9d6b-{i:012}")),
        expires_at: NOW + 3600,
        api_key: None,
        validate_subscriptions: false,
        tier: None,
    }
}

fn api() -> ApiRef {
    ApiRef {
        name: "PizzaShackAPI".into(),
        version: "1.0.0".into(),
        context: "/pizzashack/1.0.0".into(),
    }
}

fn bench(c: &mut Criterion) {
    let key = Arc::new(load_signing_key(RSA_PKCS8, None, None).expect("RSA test key"));
    let jwt = BackendJwt::new(key, BackendJwtSettings::default());
    let mut group = c.benchmark_group("backend_jwt");

    let one = caller(0);
    let api = api();
    let subscriptions = Subscriptions::default();
    group.bench_function("sign_rs256", |b| {
        b.iter(|| {
            let inputs = ClaimInputs {
                caller: &one,
                api: &api,
                key_type: KeyType::Production,
                subscriptions: &subscriptions,
            };
            let jti = random_jti().unwrap_or_default();
            let (claims, _) = claims_json(jwt.settings(), &inputs, NOW, &jti);
            jwt.key().sign(black_box(claims.as_bytes())).map(|t| t.len())
        })
    });

    let security = Arc::new(Security { backend_jwt: Some(jwt), ..Default::default() });
    let policy = AddBackendJwt::new(api, security);
    let mut state = CoreState::new(AuthStateConfig::default()).expect("core state");
    state.set_time(NOW, Instant::now());
    let callers: Vec<Rc<Caller>> = (0..CALLERS).map(|i| Rc::new(caller(i))).collect();
    let view = RequestView {
        method: b"GET",
        path: b"/menu",
        query: None,
        headers: turnpike_policy::HeaderList::EMPTY,
        peer_certificate: None,
    };
    let run = |caller: &Rc<Caller>, state: &mut CoreState| {
        let mut ctx = RequestContext::new(IpAddr::V4(Ipv4Addr::LOCALHOST));
        ctx.caller = Some(Rc::clone(caller));
        let verdict = policy.on_request_head(&mut ctx, &view, state);
        (verdict, ctx.headers.request_set.pop().map(|(_, v)| v))
    };
    let warm: Vec<String> =
        callers.iter().map(|c| run(c, &mut state).1.expect("an assertion")).collect();
    assert_eq!(state.assertions.len(), CALLERS, "every caller cached");
    for (c, first) in callers.iter().zip(&warm) {
        assert_eq!(run(c, &mut state).1.as_ref(), Some(first), "every caller hits");
    }
    let mut next = 0usize;
    group.bench_function("cached", |b| {
        b.iter(|| {
            let caller = callers.get(next % CALLERS).expect("in range");
            next = next.wrapping_add(1);
            let (verdict, header) = run(black_box(caller), &mut state);
            verdict == Verdict::Continue && header.is_some()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
