//! Defaults the facade adds to the core.

use std::sync::Arc;

use vigil_core::TransportFactory;

/// The transport used when the options name none.
pub(crate) fn default_transport() -> Option<Arc<dyn TransportFactory>> {
    None
}
