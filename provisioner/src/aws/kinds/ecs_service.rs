//! EcsService: not implemented yet.

crate::unimplemented_driver!(EcsService);
