//! Time conversions: microseconds since the Unix epoch in the database, Almaty wall time.

use crate::StoreError;
use jiff::Timestamp;

/// Microseconds since the Unix epoch (the stored form; sub-microsecond digits are dropped).
pub(crate) fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// The timestamp stored as `micros`.
pub(crate) fn from_micros(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {micros} µs out of range: {e}")))
}

/// `t` as Asia/Almaty wall time, e.g. `2026-11-25T17:00:00+05:00[Asia/Almaty]`.
pub fn almaty_local(t: Timestamp) -> String {
    match jiff::tz::db().get("Asia/Almaty") {
        Ok(tz) => t.to_zoned_datetime(tz).to_string(),
        // The bundled tz database always has Asia/Almaty; fall back to UTC rather than fail.
        Err(_) => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn almaty_local_uses_plus_five_after_2024_switch() {
        let t: Timestamp = "2024-02-29T19:00:00Z".parse().unwrap();
        assert!(almaty_local(t).starts_with("2024-03-01T00:00:00+05:00"));
        let t: Timestamp = "2024-02-29T17:00:00Z".parse().unwrap();
        assert!(almaty_local(t).starts_with("2024-02-29T23:00:00+06:00"));
    }

    #[test]
    fn micros_round_trip() {
        let t: Timestamp = "2026-11-25T05:00:00.123456Z".parse().unwrap();
        assert_eq!(from_micros(to_micros(t)).unwrap(), t);
    }
}
