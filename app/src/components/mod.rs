pub mod header;
pub mod sync_status;
pub mod sessions;
