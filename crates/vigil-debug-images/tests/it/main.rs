//! Tests of the debug images, checked against what the ELF files on disk
//! say (read with the `object` crate), of the integration, and of a
//! stripped release build (ignored by default: `release`).

mod images;
mod integration;
mod release;
mod support;
