//! An `slog` drain that forwards raft-rs logs to `tracing` (target `raft::core`), keeping the
//! structured key-value pairs as text.

use std::fmt::Write as _;

/// Forwards slog records to `tracing`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingDrain;

struct KvText(String);

impl slog::Serializer for KvText {
    fn emit_arguments(&mut self, key: slog::Key, val: &std::fmt::Arguments<'_>) -> slog::Result {
        let _ = write!(self.0, " {key}={val}");
        Ok(())
    }
}

impl slog::Drain for TracingDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(
        &self,
        record: &slog::Record<'_>,
        values: &slog::OwnedKVList,
    ) -> Result<(), slog::Never> {
        let mut kv = KvText(String::new());
        let _ = slog::KV::serialize(&record.kv(), record, &mut kv);
        let _ = slog::KV::serialize(values, record, &mut kv);
        let msg = record.msg();
        match record.level() {
            slog::Level::Critical | slog::Level::Error => {
                tracing::error!(target: "raft::core", "{msg}{}", kv.0)
            }
            slog::Level::Warning => tracing::warn!(target: "raft::core", "{msg}{}", kv.0),
            slog::Level::Info => tracing::info!(target: "raft::core", "{msg}{}", kv.0),
            slog::Level::Debug => tracing::debug!(target: "raft::core", "{msg}{}", kv.0),
            slog::Level::Trace => tracing::trace!(target: "raft::core", "{msg}{}", kv.0),
        }
        Ok(())
    }
}

/// The root logger handed to raft-rs.
pub fn raft_logger() -> slog::Logger {
    slog::Logger::root(TracingDrain, slog::o!())
}
