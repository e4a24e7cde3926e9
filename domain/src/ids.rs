//! Newtype ids, so that a patient's id can never be passed where an account's
//! is expected. Records made on a device get UUIDs made on that device (v7:
//! time-ordered), so creating offline never collides with anyone else.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUID v7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A person followed by a care team.
    PatientId
);
id_type!(
    /// A professional's (or, later, a patient's) sign-in account.
    AccountId
);
id_type!(
    /// One filled-in pain instrument.
    AssessmentId
);
id_type!(
    /// One browser profile on one phone or computer; made there once and kept.
    DeviceId
);
id_type!(
    /// One action of a care plan (an item of the PPS).
    ItemId
);
id_type!(
    /// One record of the append lane (an inclusion, a visit, a filled
    /// instrument…), made on the device that recorded it.
    RecordId
);
