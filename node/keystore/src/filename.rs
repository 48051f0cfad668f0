//! geth key file names: `UTC--<ISO 8601 time with '-' for ':'>--<address hex>`.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy_primitives::Address;

/// The file name geth gives a new key: `UTC--2016-03-22T12-57-55.920751759Z--7ef5…aef8`.
pub fn key_file_name(address: &Address, now: SystemTime) -> String {
    format!("UTC--{}--{}", iso8601(now), hex::encode(address))
}

/// geth's `toISO8601`: `YYYY-MM-DDTHH-MM-SS.nnnnnnnnnZ` in UTC (colons are not portable in
/// file names). Times before 1970 are written as the epoch.
pub fn iso8601(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}-{:02}-{:02}.{:09}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_nanos()
    )
}

/// Howard Hinnant's `civil_from_days` for days since 1970-01-01 (non-negative only).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days.saturating_add(719_468);
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn matches_geth_format() {
        // 2016-03-22T12:57:55.920751759Z, the example in geth's docs.
        let t = UNIX_EPOCH + Duration::new(1_458_651_475, 920_751_759);
        assert_eq!(iso8601(t), "2016-03-22T12-57-55.920751759Z");
        let a: Address = "0x7ef5a6135f1fd6a02593eedc869c6d41d934aef8".parse().unwrap();
        assert_eq!(
            key_file_name(&a, t),
            "UTC--2016-03-22T12-57-55.920751759Z--7ef5a6135f1fd6a02593eedc869c6d41d934aef8"
        );
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00-00-00.000000000Z");
        // Leap day.
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00-00-00.000000000Z"
        );
    }
}
