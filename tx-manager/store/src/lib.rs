//! qtm payload store: SQLite and PostgreSQL through sqlx.
