//! Test support for Vigil.
//!
//! - [`LoopbackServer`]: a small HTTP/1.1 server on a real loopback
//!   socket (`127.0.0.1`) that answers each request from a
//!   script ([`Reply`]: a status with headers and a body, a delay, a hang,
//!   a connection reset, garbage bytes, a plain close) and records every
//!   request it reads ([`Request`]), with the gzipped body inflated and
//!   parsed as a [`vigil_protocol::Envelope`]. It can be stopped and
//!   restarted on the same port to play "server down, then up again".
//!
//!   Delivery tests use it instead of mocks, so the transport's real HTTP
//!   client, timeouts and connection handling are what gets tested.
//! - [`process`]: tests that run their own test binary again as child
//!   processes (to kill one with `SIGKILL`, to restart one, to give each
//!   its own global hub), and collect what the children report.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use vigil_test::{LoopbackServer, Reply};
//!
//! let server = LoopbackServer::start();
//! server.script([Reply::status(429).header("Retry-After", "30")]);
//!
//! let mut stream = TcpStream::connect(server.addr())?;
//! stream.write_all(b"POST /api/42/envelope/ HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer)?;
//! assert!(answer.starts_with("HTTP/1.1 429 "));
//! assert!(answer.contains("Retry-After: 30\r\n"));
//!
//! let requests = server.requests();
//! assert_eq!(requests.len(), 1);
//! assert_eq!(requests[0].path, "/api/42/envelope/");
//! assert_eq!(requests[0].status, 429);
//! // `{}` alone is a valid envelope: empty headers, no items.
//! assert_eq!(requests[0].try_envelope().map(|e| e.items().len()), Some(0));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The crate is not published (`publish = false`); its API may change with
//! the tests that use it.

pub mod process;
mod server;

pub use crate::server::LoopbackServer;
pub use crate::server::listener::refused_addr;
pub use crate::server::reply::{Behavior, Reply};
pub use crate::server::request::Request;
