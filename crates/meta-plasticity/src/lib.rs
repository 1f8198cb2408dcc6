//! Meta-learning of plasticity-rule coefficients Θ (paper B).
//!
//! Not built yet (issue 4). This crate will own 5-way EMNIST episodes, exact forward-mode
//! meta-gradients dL_query/dΘ through 250 unrolled online updates, and the Adam + L1
//! meta-optimiser with checkpoints. Layer: depends on `feedback-alignment`, `plasticity-core`, `linalg`.
