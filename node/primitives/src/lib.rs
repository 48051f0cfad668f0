//! Chain primitives shared by the node crates.
