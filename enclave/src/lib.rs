//! Key management and Tessera-compatible payload cryptography (in-process or as qenclave).
