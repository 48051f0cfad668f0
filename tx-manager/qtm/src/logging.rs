//! qtm's log output on stderr: tracing's text lines, or (`--log.json`) one JSON object per line
//! with the fields of Tessera's JSON logs (what promtail and the quickstart's Loki pipeline
//! parse): `timestamp` (UTC, ISO-8601 with milliseconds), `level` (`INFO`, `WARN`, ...),
//! `thread`, `logger` (the tracing target, e.g. `qtm::node`), `class` (the module path) and
//! `message`; the event's own fields follow under their names (an `error` field is also
//! copied to `throwable`).

use std::{fmt, time::SystemTime};

use serde_json::{Map, Value};
use tracing::{Event, Subscriber, field::Field};
use tracing_subscriber::{
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    registry::LookupSpan,
};

/// Installs the stderr subscriber (`RUST_LOG` filter, `info` by default).
pub fn init(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.event_format(TesseraJson).init();
    } else {
        builder.init();
    }
}

/// The JSON line format.
#[derive(Debug, Clone, Copy, Default)]
pub struct TesseraJson;

struct Fields(Map<String, Value>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().to_owned(), Value::String(value.to_string()));
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a time after the Unix epoch.
pub fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // days since 1970-01-01 → civil date (Howard Hinnant's algorithm)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_millis()
    )
}

impl<S, N> FormatEvent<S, N> for TesseraJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let mut fields = fields.0;
        let message = fields.remove("message").unwrap_or(Value::String(String::new()));
        let mut line = Map::new();
        line.insert("timestamp".into(), iso8601(SystemTime::now()).into());
        line.insert("level".into(), meta.level().as_str().into());
        let thread = std::thread::current();
        line.insert("thread".into(), thread.name().unwrap_or("unnamed").into());
        line.insert("logger".into(), meta.target().into());
        line.insert("class".into(), meta.module_path().unwrap_or(meta.target()).into());
        line.insert("message".into(), message);
        if let Some(error) = fields.get("error").cloned() {
            line.insert("throwable".into(), error);
        }
        for (k, v) in fields {
            line.entry(k).or_insert(v);
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso8601_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_267_372_123);
        assert_eq!(iso8601(t), "2026-11-21T13:22:52.123Z");
        assert_eq!(iso8601(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
    }
}
