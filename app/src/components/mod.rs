pub mod header;
pub mod sessions;
pub mod sync_status;
