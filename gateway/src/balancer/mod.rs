//! Load balancing across upstream targets with active and passive health checks (to be written).
