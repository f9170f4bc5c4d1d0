//! Criterion benchmarks of the HTTP/1 hot path: `parse_request` on a browser-like GET and a
//! small API POST, and `ChunkedDecoder` over a 64 KiB chunked body.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use turnpike_http::h1::{parse_request, ChunkedDecoder, Parsed, RequestHead};
use turnpike_http::Limits;

const BROWSER_GET: &[u8] = b"GET /static/app/main.3f9a1c.js?v=20240611 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0\r\n\
Accept: */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://www.example.com/dashboard\r\n\
Connection: keep-alive\r\n\
Cookie: session=8c1e0c5e2b; theme=dark\r\n\
Sec-Fetch-Dest: script\r\n\
Sec-Fetch-Mode: no-cors\r\n\
Sec-Fetch-Site: same-origin\r\n\r\n";

const API_POST: &[u8] = b"POST /v1/orders HTTP/1.1\r\n\
Host: api.example.com\r\n\
Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\r\n\
Content-Type: application/json\r\n\
Content-Length: 27\r\n\r\n\
{\"sku\":\"A-1\",\"quantity\":2}";

fn chunked_body() -> Vec<u8> {
    let mut body = Vec::new();
    for _ in 0..16 {
        body.extend_from_slice(b"1000\r\n");
        body.extend(std::iter::repeat_n(b'x', 4096));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let mut head = RequestHead::default();
    let mut g = c.benchmark_group("h1_parse");
    g.throughput(Throughput::Bytes(BROWSER_GET.len() as u64));
    g.bench_function("browser_get", |b| {
        b.iter(|| {
            let r = parse_request(black_box(BROWSER_GET), &limits, &mut head);
            assert_eq!(r, Ok(Parsed::Complete));
            black_box(head.head_len)
        })
    });
    g.throughput(Throughput::Bytes(API_POST.len() as u64));
    g.bench_function("api_post", |b| {
        b.iter(|| {
            let r = parse_request(black_box(API_POST), &limits, &mut head);
            assert_eq!(r, Ok(Parsed::Complete));
            black_box(head.head_len)
        })
    });
    let body = chunked_body();
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("chunked_64k", |b| {
        b.iter(|| {
            let mut dec = ChunkedDecoder::new(&limits);
            let mut pos = 0;
            let mut data = 0;
            while !dec.is_done() {
                let step = dec.decode(black_box(&body[pos..])).expect("valid body");
                if let Some(r) = step.data {
                    data += r.len();
                }
                pos += step.consumed;
            }
            black_box(data)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
