pub mod body_map;
pub mod header;
pub mod instrument_form;
pub mod scale;
pub mod sessions;
pub mod sync_status;
pub mod trajectory_chart;
