//! Relay's length and size limits, applied to an event before it is sent
//! (`protocol.md` §3.8).
