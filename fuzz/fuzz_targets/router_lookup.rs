//! cargo-fuzz target: `turnpike_core::router::Router::lookup` over a fixed ~20-route table.
//!
//! Input layout: byte 0 bit 0 says whether a Host is sent; the rest is
//! `host \n method \n path`. `router_checks::check_lookup` compares the result with a naive
//! re-implementation of the documented matching order (host, longest base path, template,
//! method) and checks the captures, `Allow`, and host-case / trailing-slash stability.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use turnpike_core::router::Router;
use turnpike_fuzz::router_checks::{check_lookup, router, split_input};

static ROUTER: OnceLock<Router> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let router = ROUTER.get_or_init(router);
    let (host, method, path) = split_input(data);
    check_lookup(router, host, method, path);
});
