//! Turnpike's data plane: one pinned monoio runtime per core, each with its own `SO_REUSEPORT`
//! listener, connections, upstream pools and counters, serving an immutable [`Snapshot`] that the
//! control thread publishes.
//!
//! Data flow (see `LIFECYCLE.md`): listener → `conn::h1` (bytes ↔ `turnpike_http::h1`) →
//! `exchange` (route → policy phases → upstream) → response streamed back; every error or denial
//! becomes a response in `local_reply`. Runtime calls (driver choice, threads, sockets, timers) stay
//! in `runtime`.
//!
//! The adapter crate calls [`start`] with a [`StaticConfig`] and a first [`Snapshot`], then
//! [`GatewayHandle::publish`]es new snapshots and finally [`GatewayHandle::shutdown`]s.
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

pub mod client_certificate;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod conn;
pub mod control;
pub mod counters;
pub mod deadline;
pub mod events;
pub mod exchange;
mod gateway;
pub mod local_reply;
pub mod mock;
pub mod proxy;
pub mod request_id;
pub mod router;
pub mod runtime;
pub mod shutdown;
pub mod snapshot;
pub mod tls;
pub mod upstream;
pub mod well_known;
pub mod worker;

pub use gateway::{start, start_with_events, GatewayHandle, ShutdownReport, StartError};
pub use runtime::DriverKind;

pub use config::{Cidr, Driver, Limits, PoolSettings, Settings, StaticConfig, Timeouts};
pub use snapshot::{
    Api, ApiId, ApiIndex, Cluster, ClusterId, ClusterIndex, Endpoint, MockResponse, MockResponses,
    Route, RouteAction, RouteIndex, Snapshot,
};
