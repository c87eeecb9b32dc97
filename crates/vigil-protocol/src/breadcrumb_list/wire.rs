//! The wire form of [`Breadcrumbs`]: `{"values": [...]}` when written; that
//! or a bare list when read.

use serde::de::Deserializer;
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::Breadcrumbs;
use crate::breadcrumb::Breadcrumb;

struct EntriesOnWire<'a>(&'a Breadcrumbs);

impl Serialize for EntriesOnWire<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for entry in self.0.entries() {
            seq.serialize_element(&**entry)?;
        }
        seq.end()
    }
}

impl Serialize for Breadcrumbs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Breadcrumbs", 1)?;
        s.serialize_field("values", &EntriesOnWire(self))?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Breadcrumbs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Breadcrumbs, D::Error> {
        /// Sentry accepts both `{"values": [...]}` and a bare list.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Wrapped {
                #[serde(default)]
                values: Vec<Breadcrumb>,
            },
            Bare(Vec<Breadcrumb>),
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Wrapped { values } | Wire::Bare(values) => values.into(),
        })
    }
}
