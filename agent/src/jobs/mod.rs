//! Jobs the collector sends: approved scripts (`exec`, output captured with deadlines
//! by `capture`) and built-in diagnostics (`walk` reads files for them without being
//! raced or tricked by symlinks).

pub mod capture;
pub mod diagnostics;
pub mod exec;
pub mod walk;
