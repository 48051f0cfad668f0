//! qtm: a Tessera-compatible private transaction manager.
