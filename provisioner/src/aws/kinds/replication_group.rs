//! ReplicationGroup: not implemented yet.

crate::unimplemented_driver!(ReplicationGroup);
