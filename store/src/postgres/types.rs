//! `Ts`: a jiff timestamp as a PostgreSQL `timestamptz` (binary: microseconds since
//! 2000-01-01 UTC), with no conversion through `SystemTime`.

use bytes::BytesMut;
use jiff::Timestamp;
use std::error::Error;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, accepts, to_sql_checked};

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

/// A timestamp as `timestamptz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ts(pub(crate) i64);

impl From<Timestamp> for Ts {
    fn from(t: Timestamp) -> Self {
        Ts(t.as_microsecond())
    }
}

impl Ts {
    /// Back to a jiff timestamp.
    pub(crate) fn get(self) -> Result<Timestamp, crate::StoreError> {
        crate::time::from_micros(self.0)
    }
}

impl ToSql for Ts {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let v = self
            .0
            .checked_sub(PG_EPOCH_US)
            .ok_or("timestamp out of range")?;
        out.extend_from_slice(&v.to_be_bytes());
        Ok(IsNull::No)
    }

    accepts!(TIMESTAMPTZ, TIMESTAMP);
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Ts {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        let b: [u8; 8] = raw.try_into().map_err(|_| "timestamptz is not 8 bytes")?;
        let v = i64::from_be_bytes(b)
            .checked_add(PG_EPOCH_US)
            .ok_or("timestamp out of range")?;
        Ok(Ts(v))
    }

    accepts!(TIMESTAMPTZ, TIMESTAMP);
}
