//! The fleet's records: each enrolled device with its indexes and counters, its latest
//! inventory and health, its event history, and what changed between two inventories.
//! Every feature that reads or writes a device goes through here.

pub mod devices;
pub mod events;
pub mod inventory_diff;

pub use devices::{search_matches, DeviceFilter, DeviceRecord, DeviceSort};
