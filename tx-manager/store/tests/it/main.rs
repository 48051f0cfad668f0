//! Integration tests of qrs-tm-store against real SQLite files and a real PostgreSQL server.
//! Every test in a `store_tests!` list runs twice: `<module>::sqlite::<name>` and
//! `<module>::postgres::<name>`.

mod basics;
mod batch;
mod concurrency;
mod failures;
mod fixtures;
mod group_commit;
mod harness;
mod processes;
mod recipients;
mod restart;
