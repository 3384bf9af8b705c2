//! HealthCheck: not implemented yet.

crate::unimplemented_driver!(HealthCheck);
