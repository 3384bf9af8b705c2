//! AuroraCluster: not implemented yet.

crate::unimplemented_driver!(AuroraCluster);
