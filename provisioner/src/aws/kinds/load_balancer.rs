//! LoadBalancer: not implemented yet.

crate::unimplemented_driver!(LoadBalancer);
