//! Jobs the collector sends: approved scripts (`exec`, output captured with deadlines
//! by `capture`) and built-in diagnostics.

pub mod capture;
pub mod diagnostics;
pub mod exec;
