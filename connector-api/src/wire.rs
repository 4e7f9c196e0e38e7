//! The JSON both sides of the boundary exchange around an operation: the request envelope,
//! the events a call sends while it runs, and the operation names. Plumbing: the SDK encodes
//! and decodes these for authors and hosts alike, from this one definition.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::ConnectorObject;
use crate::ops::{OpCreate, OpDelete, OpGet, OpSchema, OpSearch, OpTest, OpUpdate, Operation};

/// Every operation name, in the order a guide lists them.
pub const OPERATION_NAMES: [&str; 7] = [
    OpTest::NAME,
    OpSchema::NAME,
    OpCreate::NAME,
    OpGet::NAME,
    OpUpdate::NAME,
    OpDelete::NAME,
    OpSearch::NAME,
];

/// What a request given as JSON needs of its class ([`Operation::needs`]): the same check as
/// for a typed request. A request that does not decode needs its operation's flag, and the
/// connector answers it; an unknown operation needs nothing here.
pub fn needs_of(operation: &str, request: &Value) -> Vec<&'static str> {
    fn typed<O: Operation>(request: &Value) -> Vec<&'static str> {
        O::deserialize(request).map_or_else(|_| vec![O::NAME], |op| op.needs())
    }
    match operation {
        OpCreate::NAME => typed::<OpCreate>(request),
        OpGet::NAME => typed::<OpGet>(request),
        OpUpdate::NAME => typed::<OpUpdate>(request),
        OpDelete::NAME => typed::<OpDelete>(request),
        OpSearch::NAME => typed::<OpSearch>(request),
        _ => Vec::new(),
    }
}

/// The JSON document a host sends for every operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestEnvelope<T> {
    /// The sender's [`crate::abi::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The time the operation may take, in milliseconds, from its start in the plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// The most verbose level the host records; the plugin sends no line above it. Absent
    /// (hosts before this field): every level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<crate::LogLevel>,
    /// The operation's request.
    pub request: T,
}

/// An event a plugin sends to the host during a call (see [`crate::abi::HostCallbacks::emit`]).
///
/// Encoded tagged by `event`; decoded through a flat struct, since an internally tagged enum
/// makes serde buffer every batch of objects into an intermediate tree first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", try_from = "FlatEvent")]
#[non_exhaustive]
pub enum Event {
    /// The next objects of a search, in order.
    Objects {
        /// The objects.
        objects: Vec<ConnectorObject>,
    },
    /// The number of objects a search will return, once known.
    Total {
        /// The total.
        total: u64,
    },
    /// A log line from the plugin, for the host's log.
    Log {
        /// `error`, `warn`, `info`, `debug` or `trace`; another (a newer peer's) reads as info.
        level: String,
        /// The line. Never contains a secret.
        message: String,
    },
    /// An event kind from a newer peer: ignored, as additive JSON requires. Never sent.
    #[serde(skip_serializing)]
    Unknown {
        /// Its kind.
        kind: String,
    },
}

#[derive(Deserialize)]
struct FlatEvent {
    event: String,
    #[serde(default)]
    objects: Option<Vec<ConnectorObject>>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl TryFrom<FlatEvent> for Event {
    type Error = String;

    fn try_from(flat: FlatEvent) -> Result<Self, String> {
        match flat.event.as_str() {
            "objects" => flat
                .objects
                .map(|objects| Event::Objects { objects })
                .ok_or_else(|| "an objects event without objects".into()),
            "total" => flat
                .total
                .map(|total| Event::Total { total })
                .ok_or_else(|| "a total event without a total".into()),
            "log" => Ok(Event::Log {
                level: flat.level.unwrap_or_else(|| "info".into()),
                message: flat.message.unwrap_or_default(),
            }),
            _ => Ok(Event::Unknown { kind: flat.event }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_a_newer_kind_is_read_as_unknown() {
        let events = [
            Event::Objects {
                objects: vec![ConnectorObject::new("u1", "ada")],
            },
            Event::Total { total: 3 },
            Event::Log {
                level: "debug".into(),
                message: "m".into(),
            },
        ];
        for event in events {
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(
                serde_json::from_str::<Event>(&json).unwrap(),
                event,
                "{json}"
            );
        }
        let newer: Event = serde_json::from_str(r#"{"event":"progress","done":3}"#).unwrap();
        assert_eq!(
            newer,
            Event::Unknown {
                kind: "progress".into()
            }
        );
        let broken = serde_json::from_str::<Event>(r#"{"event":"objects"}"#).unwrap_err();
        assert!(broken.to_string().contains("without objects"), "{broken}");
    }
}
