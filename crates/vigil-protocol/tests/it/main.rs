//! Integration tests of the wire types: JSON shapes, the envelope writer
//! and reader (checked against the crates.io `sentry-types` parser), DSN
//! parsing, transactions, and Relay's normalizer over trimmed events and
//! fitted transactions.

mod check_ins;
mod debug_meta;
mod dsn;
mod envelope;
mod feedback;
mod fixtures;
mod json_shapes;
mod logs;
mod relay;
mod relay_transactions;
mod transaction;
