//! CacheSubnetGroup: not implemented yet.

crate::unimplemented_driver!(CacheSubnetGroup);
