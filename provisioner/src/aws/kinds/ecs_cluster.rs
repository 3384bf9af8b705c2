//! EcsCluster: not implemented yet.

crate::unimplemented_driver!(EcsCluster);
