//! The qnode node: configuration, component wiring and the qnode binary.
