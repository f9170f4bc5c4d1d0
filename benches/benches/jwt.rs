//! Criterion benchmarks of JWT verification (`turnpike_policy::jose`): one `decode_and_verify`
//! per iteration for RS256, PS256 (RSA-2048), ES256, ES384, EdDSA and HS256, with keys parsed
//! once into a `KeySet`, and `decode` alone. The tokens carry a WSO2-like claim set.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use turnpike_policy::jose::{self, Alg, IssuerPolicy, KeySet};

/// The clock the tokens are valid at (they expire an hour later).
const NOW: u64 = 1_700_000_000;
const ISS: &str = "https://idp.example/oauth2/token";

/// `(alg, token, JWK)`, minted offline (Python `cryptography`) so this crate needs no ring.
const CASES: &[(Alg, &str, &str)] = &[
    (
        Alg::RS256,
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlL29hdXRoMi90b2tlbiIsInN1YiI6ImFkbWluQGNhcmJvbi5zdXBlciIsImF1ZCI6WyJhcGktMSJdLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTY5OTk5OTk5MCwianRpIjoiMGI4ZjdjN2UtMmYxYS00YmQ1LTlkMGMtM2Y1YWQxZTFkMWIyIiwiYXpwIjoiWHEza1FtMHg4cyIsInNjb3BlIjoicmVhZCB3cml0ZSBkZWZhdWx0In0.TG92qkDM9WXD4rF1caLfSMieA57xLhvVyvcODpc1QCcVJYdWZqyiJBS5JTDetbgQ1rMMp0cehaPVaKzqHp5vTIzdUOKsrvdF5dLfakSMmOVrkEUTq5Xg0WSjrY1v3GZ_fRYlogKaI4VyknG8BscHhkjhd2NA5mjiIi4GmOCZV_rGWxS3j2zs7bDz2713Jx5KGGufo-jyr1I9yyC-TUIJCr8oO_AX5a0FPLBffVce6y21GfvQPbH7otw7sLSKnTz6m6RWckQoS5MkuW5FWrkAfy2eRhPoU6WKmBtCZDCw0hIZA5YU9aMoyY7ExCmX6vukcOyqYJL1-8ZnOJTf278ehg",
        r#"{"kty":"RSA","kid":"bench","n":"uvvbH8OtCjW4cKI6vcDdszV2ILPdOQDs9AO64P9aL9mhUAJNLndzhFt3f4KeveF0H5Usw0F7SkimyYuYjUkkaZiT2b0kdSYY7X5LV_eVGp4Nb6KGt7GFD3g1ZEuk-ty_NrvgfGkl2qYvmiEhVsQsC0TSdscqrMq1L5OYhLvZkDd_Uc9lpn6L98lA8ZZqYdSiI9BKRerYQKlT1Sjzf2QtKSJ5N7FkVncRZeCLfsdUsEoheAXJcoZ0Kg4OGcONXt4dA5SfmyXIh488npMvN90LBAvUPGsAWo3VFUtik21Kqh7QAVpvUWz4kYij9IyhLH1dMaz_gI7-mJibGJL-AKsQ3w","e":"AQAB"}"#,
    ),
    (
        Alg::PS256,
        "eyJhbGciOiJQUzI1NiIsImtpZCI6ImJlbmNoIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlL29hdXRoMi90b2tlbiIsInN1YiI6ImFkbWluQGNhcmJvbi5zdXBlciIsImF1ZCI6WyJhcGktMSJdLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTY5OTk5OTk5MCwianRpIjoiMGI4ZjdjN2UtMmYxYS00YmQ1LTlkMGMtM2Y1YWQxZTFkMWIyIiwiYXpwIjoiWHEza1FtMHg4cyIsInNjb3BlIjoicmVhZCB3cml0ZSBkZWZhdWx0In0.L8_vop5U-EmIHP9fj36O4URcQkeC7PYp6d-TpPfJRmRztK_9Q--4lZpRuJ5Mt49PGxgOTi3Jnlb65Blgx3NyPvZGTweZpDl73yJZM8yKPRHeVSZt2AyeHDr5m9GVP3s-3p_HsHBo3P3P7hdL1BCeKRmpCjfZVXFw-zZNGW1WLHjVBu-TznDOTbxV6UvTgnkXMHpsQdOGCcvy1J5gBBZIxNpa32lPiK2NXtIU3AJ5sb_H49n1vk3435XZrO3mbWLsVnIC_yhVnx5j_fPk0riaXj4v1US0-cYDjpn2t8HDwEaV0hhx-MiENt8yxGHsNYh0EQ8TsNd0KydDvLWOPePKFA",
        r#"{"kty":"RSA","kid":"bench","n":"uvvbH8OtCjW4cKI6vcDdszV2ILPdOQDs9AO64P9aL9mhUAJNLndzhFt3f4KeveF0H5Usw0F7SkimyYuYjUkkaZiT2b0kdSYY7X5LV_eVGp4Nb6KGt7GFD3g1ZEuk-ty_NrvgfGkl2qYvmiEhVsQsC0TSdscqrMq1L5OYhLvZkDd_Uc9lpn6L98lA8ZZqYdSiI9BKRerYQKlT1Sjzf2QtKSJ5N7FkVncRZeCLfsdUsEoheAXJcoZ0Kg4OGcONXt4dA5SfmyXIh488npMvN90LBAvUPGsAWo3VFUtik21Kqh7QAVpvUWz4kYij9IyhLH1dMaz_gI7-mJibGJL-AKsQ3w","e":"AQAB"}"#,
    ),
    (
        Alg::ES256,
        "eyJhbGciOiJFUzI1NiIsImtpZCI6ImJlbmNoIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlL29hdXRoMi90b2tlbiIsInN1YiI6ImFkbWluQGNhcmJvbi5zdXBlciIsImF1ZCI6WyJhcGktMSJdLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTY5OTk5OTk5MCwianRpIjoiMGI4ZjdjN2UtMmYxYS00YmQ1LTlkMGMtM2Y1YWQxZTFkMWIyIiwiYXpwIjoiWHEza1FtMHg4cyIsInNjb3BlIjoicmVhZCB3cml0ZSBkZWZhdWx0In0.HrYEAnX0XGrjIwl7GXn8N7WBNidrz8zLd_x8OksRRBqloVOV1twMSijfwVjkmbNAvsnlCwb_ZersNwVP5--x5w",
        r#"{"kty":"EC","kid":"bench","crv":"P-256","x":"u7OWmoYTRi-i3ngQF_CuXmUedyAA2sDjZy3Hl4JnFYU","y":"7zMWmkS5YqOKUIE7_Ssq3eXps7Klb8AXBTYgrRQePu0"}"#,
    ),
    (
        Alg::ES384,
        "eyJhbGciOiJFUzM4NCIsImtpZCI6ImJlbmNoIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlL29hdXRoMi90b2tlbiIsInN1YiI6ImFkbWluQGNhcmJvbi5zdXBlciIsImF1ZCI6WyJhcGktMSJdLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTY5OTk5OTk5MCwianRpIjoiMGI4ZjdjN2UtMmYxYS00YmQ1LTlkMGMtM2Y1YWQxZTFkMWIyIiwiYXpwIjoiWHEza1FtMHg4cyIsInNjb3BlIjoicmVhZCB3cml0ZSBkZWZhdWx0In0.LVBsz83pdcroyCQiB--ZkRAAvofPoDenRo0HIfcOv9ZA2vdSRORNKtZGm9Zkhukto7LhLqHMbZ3ltQb1ZLoO_oxuRkE5U4mQVWLzThz6ePipWJ0-0D_90h5MaJ8Iq6RX",
        r#"{"kty":"EC","kid":"bench","crv":"P-384","x":"dwjHoa6DhlP5u7CjNxpskqHUuiKp566hayoDInChwXuDXh57KDagbaTvJEQ7qeCa","y":"4EI8q3JbWicz34egejK4IMHFZxx-4UgMUXxMy383rGOcNd-gO-Ad1jxUZZ9b_-TI"}"#,
    ),
    (
        Alg::EdDSA,
        "eyJhbGciOiJFZERTQSIsImtpZCI6ImJlbmNoIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlL29hdXRoMi90b2tlbiIsInN1YiI6ImFkbWluQGNhcmJvbi5zdXBlciIsImF1ZCI6WyJhcGktMSJdLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTY5OTk5OTk5MCwianRpIjoiMGI4ZjdjN2UtMmYxYS00YmQ1LTlkMGMtM2Y1YWQxZTFkMWIyIiwiYXpwIjoiWHEza1FtMHg4cyIsInNjb3BlIjoicmVhZCB3cml0ZSBkZWZhdWx0In0.u-CUch5t-5MsBvowyCyl2b0ASAnNU_G9GpkFUJLFln6D5sV1E1exmmg38aCn-P-8AgjSHz5Vk9BAoHZJxJXaCQ",
        r#"{"kty":"OKP","kid":"bench","crv":"Ed25519","x":"jTx49l-mG8IGIOuHlXRStxKw-NLPFNyHlTQtKUX4Ijk"}"#,
    ),
    (
        Alg::HS256,
        "eyJhbGciOiJIUzI1NiIsImtpZCI6ImJlbmNoIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlL29hdXRoMi90b2tlbiIsInN1YiI6ImFkbWluQGNhcmJvbi5zdXBlciIsImF1ZCI6WyJhcGktMSJdLCJleHAiOjE3MDAwMDM2MDAsImlhdCI6MTY5OTk5OTk5MCwianRpIjoiMGI4ZjdjN2UtMmYxYS00YmQ1LTlkMGMtM2Y1YWQxZTFkMWIyIiwiYXpwIjoiWHEza1FtMHg4cyIsInNjb3BlIjoicmVhZCB3cml0ZSBkZWZhdWx0In0.zwyZ1qCbP9NtSbusCqPzrdhvD3MH8dV4YM7LvGWh0xU",
        r#"{"kty":"oct","kid":"bench","k":"WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo"}"#,
    ),
];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("jwt_verify");
    for &(alg, token, jwk) in CASES {
        let keys = KeySet::from_jwks(format!(r#"{{"keys":[{jwk}]}}"#).as_bytes()).unwrap();
        let policy =
            IssuerPolicy { audiences: vec!["api-1".into()], ..IssuerPolicy::new(ISS, vec![alg]) };
        let verified = jose::decode_and_verify(token, &keys, &policy, NOW);
        assert!(verified.is_ok(), "{alg}: {verified:?}");
        group.bench_function(alg.name(), |b| {
            b.iter(|| jose::decode_and_verify(black_box(token), &keys, &policy, NOW).is_ok())
        });
    }
    group.finish();
    let rs256 = CASES.first().map(|&(_, token, _)| token).unwrap_or_default();
    c.bench_function("jwt_decode_only", |b| b.iter(|| jose::decode(black_box(rs256)).is_ok()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
