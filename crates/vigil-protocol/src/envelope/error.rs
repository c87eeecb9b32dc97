//! [`EnvelopeError`]: why an envelope could not be read.

use std::fmt;

/// Why an envelope could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The first line is not a JSON object.
    InvalidEnvelopeHeader {
        /// The parser's message, for logging only.
        detail: String,
    },
    /// An item header is not a JSON object or has a bad field.
    InvalidItemHeader {
        /// Which item (0-based).
        index: usize,
        /// What was wrong, for logging only.
        detail: String,
    },
    /// An item header has no string `type`.
    MissingItemType {
        /// Which item (0-based).
        index: usize,
    },
    /// The data ended before the declared `length`.
    PayloadTooShort {
        /// Which item (0-based).
        index: usize,
        /// The declared length.
        declared: u64,
        /// The bytes that were left.
        available: u64,
    },
    /// A length-prefixed payload is followed by something other than a
    /// newline or the end.
    MissingNewlineAfterPayload {
        /// Which item (0-based).
        index: usize,
    },
    /// A known item type whose payload does not parse.
    InvalidPayload {
        /// Which item (0-based).
        index: usize,
        /// The item type.
        item_type: String,
        /// The parser's message, for logging only.
        detail: String,
    },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::InvalidEnvelopeHeader { detail } => {
                write!(f, "invalid envelope header: {detail}")
            }
            EnvelopeError::InvalidItemHeader { index, detail } => {
                write!(f, "invalid header of item {index}: {detail}")
            }
            EnvelopeError::MissingItemType { index } => {
                write!(f, "item {index} has no type")
            }
            EnvelopeError::PayloadTooShort {
                index,
                declared,
                available,
            } => write!(
                f,
                "item {index} declares {declared} bytes but only {available} follow"
            ),
            EnvelopeError::MissingNewlineAfterPayload { index } => {
                write!(f, "item {index} payload is not followed by a newline")
            }
            EnvelopeError::InvalidPayload {
                index,
                item_type,
                detail,
            } => write!(f, "invalid {item_type} payload in item {index}: {detail}"),
        }
    }
}

impl std::error::Error for EnvelopeError {}
