//! Jobs the collector sends: approved scripts (`exec`) and built-in diagnostics.

pub mod diagnostics;
pub mod exec;
