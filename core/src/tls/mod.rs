//! TLS on the data plane, built on rustls (ring provider). `client`: TLS to upstream backends.
//! Configurations are built by the adapter on the control thread and carried in the snapshot;
//! sessions are per connection, on the core that owns it.

pub mod client;
