//! Deterministic mutation fuzzing of the HTTP/1 decoders on stable Rust.
//!
//! cargo-fuzz needs a nightly toolchain; this test runs the same invariant checks as the
//! `fuzz/` targets (shared through `fuzz/src/h1_checks.rs`, see its docs for the list) on
//! inputs made by a seeded xorshift mutator, so every `cargo test` fuzzes a little and a long
//! local run can hunt for real bugs:
//!
//! ```text
//! TURNPIKE_FUZZ_ITERS=2000000 TURNPIKE_FUZZ_SEED=7 cargo test --release -p turnpike-http \
//!     --test robustness -- --nocapture
//! ```
//!
//! Seeds: every request / response of `shared/vectors/http1/llhttp_cases.json`, the chunked
//! bodies that follow their heads, hand-written messages, and messages assembled at random
//! from framing-relevant pieces. Mutations: bit flips, byte insert / delete / overwrite,
//! range duplication and deletion, splices of interesting tokens (CRLF, framing headers, huge
//! numbers, whitespace, NUL, ...), crossover between seeds, truncation.
//!
//! A failing input is printed (escaped and as bytes); save it under
//! `fuzz/regressions/<target>/<name>` so that `fuzz_regressions.rs` keeps it fixed.
//!
//! What it does not do: no coverage feedback (that is cargo-fuzz's job), no router (the
//! router lives in `turnpike-core`; see `fuzz/fuzz_targets/router_lookup.rs`).

#[path = "../../fuzz/src/h1_checks.rs"]
#[allow(dead_code)]
mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};

use base64::Engine as _;
use turnpike_http::h1::{
    encode, parse_request, parse_response, Method, Parsed, RequestBody, RequestHead, ResponseBody,
    ResponseHead,
};
use turnpike_http::Limits;

const VECTORS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/http1/llhttp_cases.json");

/// Iterations per decoder when `TURNPIKE_FUZZ_ITERS` is not set.
const DEFAULT_ITERS: u64 = 20_000;

/// Inputs grow by mutation; cap them so one iteration stays cheap.
const MAX_INPUT: usize = 4096;

/// Tokens that matter to HTTP/1 framing, spliced into inputs.
const DICTIONARY: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\r",
    b"\n",
    b"\0",
    b" ",
    b"\t",
    b":",
    b";",
    b",",
    b"=",
    b"\"",
    b"\\",
    b"?",
    b"#",
    b"%",
    b"%0",
    b"@",
    b"/",
    b"*",
    b"[",
    b"]",
    b"\x7f",
    b"\xff",
    b"0x",
    b"0",
    b"-1",
    b"+1",
    b"00000000000000000000000000001",
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999999999",
    b"ffffffffffffffff",
    b"10000000000000000",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Transfer-Encoding: chunked, chunked\r\n",
    b"Transfer-Encoding:",
    b"Content-Length: ",
    b"Content-Length: 5\r\n",
    b"Content-Length: 0, 0\r\n",
    b"content-length:",
    b"Host: ",
    b"Host: a.example:80\r\n",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b"Connection:",
    b"Upgrade: h2c\r\n",
    b"Expect: 100-continue\r\n",
    b"chunked",
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/2.0",
    b"HTTP/1.1 200 OK\r\n",
    b"GET / HTTP/1.1\r\n",
    b"OPTIONS * HTTP/1.1\r\n",
    b"http://",
    b"https://",
    b"0\r\n\r\n",
    b"5\r\nhello\r\n",
    b";ext=\"v\"",
    b"Trailer: x\r\n",
];

/// Hand-written requests (besides llhttp's): framing edge cases and every target form.
const REQUEST_SEEDS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"\r\nGET /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n",
    b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    b"PUT http://h.example/p?q HTTP/1.1\r\nHost: other\r\nExpect: 100-continue\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
    b"GET /x HTTP/1.0\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\r\n",
    b"DELETE /%41%42 HTTP/1.1\r\nHost: a\r\nA:\r\nB:  spaced  \r\n\r\n",
];

/// Hand-written responses.
const RESPONSE_SEEDS: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n",
    b"HTTP/1.1 500 \r\nTransfer-Encoding: gzip\r\n\r\nbody",
    b"\r\nHTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n",
];

/// Hand-written chunked bodies.
const CHUNKED_SEEDS: &[&[u8]] = &[
    b"0\r\n\r\n",
    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    b"A;name=value;q=\"a \\\" b\"\r\n0123456789\r\n000\r\nTrailer: x\r\nT2:\r\n\r\n",
    b"5 ; a = b\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
    b"ffffffffffffffff\r\nabc",
    b"1\r\nx\r\n1\r\ny\r\n1\r\nz\r\n0;last\r\n\r\n",
];

/// xorshift64*: small, fast, deterministic; good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn pick_bytes(&mut self, items: &[&'static [u8]]) -> &'static [u8] {
        items[self.below(items.len())]
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Apply 1–4 random mutations to `input`.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(12) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                input.insert(i, rng.next() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = (rng.below(8) + 1).min(len - i);
                input.drain(i..i + n);
            }
            4 | 5 => {
                let i = rng.below(len + 1);
                let tok = rng.pick(DICTIONARY);
                input.splice(i..i, tok.iter().copied());
            }
            6 if len > 0 => {
                // Overwrite a range with a token.
                let i = rng.below(len);
                let tok = rng.pick(DICTIONARY);
                let end = (i + tok.len()).min(len);
                input.splice(i..end, tok.iter().copied());
            }
            7 if len > 0 => {
                // Duplicate a range (repeated headers, repeated chunks).
                let i = rng.below(len);
                let n = (rng.below(64) + 1).min(len - i);
                let piece: Vec<u8> = input[i..i + n].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, piece);
            }
            8 if !corpus.is_empty() => {
                // Crossover: our prefix, another seed's suffix.
                let other = rng.pick(corpus);
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            9 if len > 0 => {
                let cut = rng.below(len + 1);
                input.truncate(cut);
            }
            10 if len > 0 => {
                // Flip the case of a letter (header names, "chunked", hex digits).
                let i = rng.below(len);
                input[i] ^= if input[i].is_ascii_alphabetic() { 0x20 } else { 0 };
            }
            11 => {
                // A run of one digit: overflowing sizes and lengths.
                let i = rng.below(len + 1);
                let digit = *rng.pick(b"0159af");
                let n = rng.below(24) + 1;
                input.splice(i..i, std::iter::repeat_n(digit, n));
            }
            _ => {}
        }
    }
    input.truncate(MAX_INPUT);
}

/// A random request built from framing-relevant pieces: reaches deep paths (CL/TE
/// combinations, Host rules, Connection lists) more often than byte mutation alone.
fn assemble_request(rng: &mut Rng) -> Vec<u8> {
    const METHODS: &[&[u8]] = &[b"GET", b"POST", b"HEAD", b"OPTIONS", b"PUT", b"X-M", b"CONNECT"];
    const TARGETS: &[&[u8]] =
        &[b"/", b"/a/b?c", b"*", b"http://h:8080/p?q=1", b"https://[::1]", b"/%2f%", b"//x"];
    const NAMES: &[&[u8]] = &[
        b"Host",
        b"Content-Length",
        b"Transfer-Encoding",
        b"Connection",
        b"Expect",
        b"X-A",
        b"host",
        b"CONTENT-LENGTH",
    ];
    const VALUES: &[&[u8]] = &[
        b"a",
        b"0",
        b"5",
        b"5, 5",
        b"5,6",
        b"chunked",
        b"gzip, chunked",
        b"chunked;q=1",
        b", chunked ,",
        b"close",
        b"keep-alive, close",
        b"100-continue",
        b"",
        b"h:65536",
        b"[::1]:80",
    ];
    const COLONS: &[&[u8]] = &[b": ", b":", b":\t", b" : "];
    const EOLS: &[&[u8]] = &[b"\r\n", b"\r\n", b" \r\n", b"\n"];
    let mut out = Vec::new();
    if rng.chance(8) {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(rng.pick_bytes(METHODS));
    out.push(b' ');
    out.extend_from_slice(rng.pick_bytes(TARGETS));
    out.extend_from_slice(if rng.chance(4) { b" HTTP/1.0\r\n" } else { b" HTTP/1.1\r\n" });
    for _ in 0..rng.below(6) {
        out.extend_from_slice(rng.pick_bytes(NAMES));
        out.extend_from_slice(rng.pick_bytes(COLONS));
        out.extend_from_slice(rng.pick_bytes(VALUES));
        out.extend_from_slice(rng.pick_bytes(EOLS));
    }
    out.extend_from_slice(b"\r\n");
    if rng.chance(2) {
        out.extend_from_slice(rng.pick_bytes(CHUNKED_SEEDS));
    }
    out
}

/// A random chunked body made with the crate's own encoder, with its data.
fn encoded_chunked(rng: &mut Rng) -> (Vec<u8>, Vec<u8>) {
    let mut body = Vec::new();
    let mut data = Vec::new();
    for _ in 0..rng.below(5) {
        let n = rng.below(40) + 1;
        let chunk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        encode::write_chunk_header(&mut body, n);
        body.extend_from_slice(&chunk);
        encode::write_chunk_end(&mut body);
        data.extend_from_slice(&chunk);
    }
    encode::write_last_chunk(&mut body);
    (body, data)
}

/// Requests and responses from the llhttp vectors (`raw_b64`), by kind.
fn llhttp_seeds() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("llhttp vectors missing at {VECTORS}: {e}"));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("vector file is JSON");
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    for case in doc["cases"].as_array().expect("`cases` array") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(case["raw_b64"].as_str().expect("raw_b64"))
            .expect("base64");
        if case["type"].as_str().unwrap_or("").starts_with("request") {
            requests.push(raw);
        } else {
            responses.push(raw);
        }
    }
    assert!(requests.len() > 100 && responses.len() > 30);
    (requests, responses)
}

/// Most llhttp requests lack the Host field HTTP/1.1 requires (so we refuse them early):
/// the same requests with `Host: h` after the request-line reach the deeper checks.
fn with_host(requests: &[Vec<u8>]) -> Vec<Vec<u8>> {
    requests
        .iter()
        .filter_map(|r| {
            let eol = r.windows(2).skip(1).position(|w| w == b"\r\n")? + 3;
            let mut v = r[..eol].to_vec();
            v.extend_from_slice(b"Host: h\r\n");
            v.extend_from_slice(&r[eol..]);
            Some(v)
        })
        .collect()
}

/// Chunked bodies: the bytes after every complete chunked head among the seeds.
fn chunked_seeds(requests: &[Vec<u8>], responses: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let limits = Limits::default();
    let mut out: Vec<Vec<u8>> = CHUNKED_SEEDS.iter().map(|s| s.to_vec()).collect();
    let mut rq = RequestHead::default();
    for r in requests {
        if parse_request(r, &limits, &mut rq) == Ok(Parsed::Complete)
            && rq.body == RequestBody::Chunked
        {
            out.push(r[rq.head_len..].to_vec());
        }
    }
    let mut rs = ResponseHead::default();
    for r in responses {
        if parse_response(r, &limits, Method::Get, &mut rs) == Ok(Parsed::Complete)
            && rs.body == ResponseBody::Chunked
        {
            out.push(r[rs.head_len..].to_vec());
        }
    }
    out
}

/// Prefix lengths to re-parse for the sans-IO check: a few random ones.
fn random_cuts(rng: &mut Rng, len: usize) -> [usize; 3] {
    [rng.below(len + 1), rng.below(len + 1), len.saturating_sub(rng.below(4))]
}

/// Half the time the fixed tight limits, half the time random ones (often 0, 1 or a few
/// bytes), each compared with the defaults.
fn random_limits(rng: &mut Rng) -> Limits {
    if rng.chance(2) {
        checks::tight_limits()
    } else {
        checks::limits_from_seed(rng.next())
    }
}

/// Run `iters` mutated inputs through `check`; on a failure print the input and fail.
fn fuzz(
    name: &str,
    seed_offset: u64,
    corpus: &[Vec<u8>],
    generate: Option<fn(&mut Rng) -> Vec<u8>>,
    check: impl Fn(&[u8], &mut Rng) -> &'static str,
) {
    assert!(!corpus.is_empty());
    let iters = env_u64("TURNPIKE_FUZZ_ITERS", DEFAULT_ITERS);
    let seed = env_u64("TURNPIKE_FUZZ_SEED", 0x7475_726e_7069_6b65) ^ seed_offset;
    let mut rng = Rng::new(seed);
    let started = std::time::Instant::now();
    let mut tally: Vec<(&'static str, u64)> = Vec::new();
    let mut count = |label: &'static str| match tally.iter_mut().find(|(l, _)| *l == label) {
        Some((_, n)) => *n += 1,
        None => tally.push((label, 1)),
    };
    // Seeds first, unmutated.
    for input in corpus {
        count(run_one(name, input, &mut rng, &check));
    }
    for _ in 0..iters {
        let mut input = match generate {
            Some(g) if rng.chance(4) => g(&mut rng),
            _ => rng.pick(corpus).clone(),
        };
        mutate(&mut rng, &mut input, corpus);
        count(run_one(name, &input, &mut rng, &check));
    }
    eprintln!(
        "{name}: {} seeds + {iters} mutated inputs (seed {seed:#x}) in {:.1?}: {tally:?}",
        corpus.len(),
        started.elapsed()
    );
}

fn run_one(
    name: &str,
    input: &[u8],
    rng: &mut Rng,
    check: &impl Fn(&[u8], &mut Rng) -> &'static str,
) -> &'static str {
    let result = catch_unwind(AssertUnwindSafe(|| check(input, rng)));
    match result {
        Ok(label) => label,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "{name}: invariant broken or panic on input {:?}\nbytes: {input:?}\n{msg}\n\
             save it as fuzz/regressions/{name}/<short-name>",
                String::from_utf8_lossy(input)
            );
        }
    }
}

fn head_label<T>(outcome: &checks::HeadOutcome<T>) -> &'static str {
    match outcome {
        checks::HeadOutcome::Complete(_) => "complete",
        checks::HeadOutcome::Partial => "partial",
        checks::HeadOutcome::Error(_) => "error",
    }
}

#[test]
fn h1_request_mutations() {
    let (requests, _) = llhttp_seeds();
    let mut corpus = with_host(&requests);
    corpus.extend(requests);
    corpus.extend(REQUEST_SEEDS.iter().map(|s| s.to_vec()));
    fuzz("h1_request", 1, &corpus, Some(assemble_request), |input, rng| {
        let cuts = random_cuts(rng, input.len());
        let limits = random_limits(rng);
        head_label(&checks::check_request_with(input, &cuts, &limits))
    });
}

#[test]
fn h1_response_mutations() {
    let (_, responses) = llhttp_seeds();
    let mut corpus = responses;
    corpus.extend(RESPONSE_SEEDS.iter().map(|s| s.to_vec()));
    fuzz("h1_response", 2, &corpus, None, |input, rng| {
        let cuts = random_cuts(rng, input.len());
        let limits = random_limits(rng);
        head_label(&checks::check_response_with(input, &cuts, &limits))
    });
}

#[test]
fn h1_chunked_mutations() {
    let (requests, responses) = llhttp_seeds();
    let corpus = chunked_seeds(&requests, &responses);
    fn generate(rng: &mut Rng) -> Vec<u8> {
        encoded_chunked(rng).0
    }
    fuzz("h1_chunked", 3, &corpus, Some(generate), |input, rng| {
        let limits = random_limits(rng);
        match checks::check_chunked_with(input, rng.next() as u8, &limits).end {
            checks::ChunkEnd::Done { .. } => "done",
            checks::ChunkEnd::NeedMore => "need-more",
            checks::ChunkEnd::Error(_) => "error",
        }
    });
}

/// Whatever the encoder frames, the decoder returns, however the bytes are split.
#[test]
fn chunked_round_trip() {
    let mut rng = Rng::new(env_u64("TURNPIKE_FUZZ_SEED", 42));
    for _ in 0..2_000 {
        let (mut body, data) = encoded_chunked(&mut rng);
        let run = checks::check_chunked(&body, rng.next() as u8);
        assert_eq!(run.data, data);
        assert_eq!(run.end, checks::ChunkEnd::Done { consumed: body.len() });
        // Pipelined bytes after the body are left alone.
        body.extend_from_slice(b"GET / HTTP/1.1\r\n");
        let run = checks::check_chunked(&body, rng.next() as u8);
        assert_eq!(run.data, data);
    }
}

/// A request head built with the encoder parses back to the same fields.
#[test]
fn request_encode_round_trip() {
    let mut rng = Rng::new(env_u64("TURNPIKE_FUZZ_SEED", 43));
    for _ in 0..2_000 {
        const METHODS: &[&[u8]] = &[b"GET", b"POST", b"PATCH", b"X-Custom"];
        const TARGETS: &[&[u8]] = &[b"/", b"/a?b=c", b"/%20/x;y=z", b"/a/b/c/"];
        let method = *rng.pick(METHODS);
        let target = *rng.pick(TARGETS);
        let mut buf = Vec::new();
        encode::write_request_line(&mut buf, method, target);
        encode::write_header(&mut buf, b"Host", b"example.com:8443");
        let n = rng.below(1000) as u64;
        encode::write_content_length(&mut buf, n);
        let extra = rng.below(5);
        for i in 0..extra {
            encode::write_header(&mut buf, format!("X-H{i}").as_bytes(), b"v  a l");
        }
        encode::end_head(&mut buf);
        let head_len = buf.len();
        buf.extend_from_slice(b"tail");
        let cuts = random_cuts(&mut rng, buf.len());
        let out = checks::check_request(&buf, &cuts);
        let h = out.complete().expect("encoded request parses");
        assert_eq!(h.head_len, head_len);
        assert_eq!(h.body, RequestBody::Length(n));
        assert_eq!(h.headers.len(), 2 + extra);
        assert_eq!(h.target.get(&buf), target);
        assert_eq!(h.method_span.get(&buf), method);
    }
}
