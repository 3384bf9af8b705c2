//! ElasticIp: not implemented yet.

crate::unimplemented_driver!(ElasticIp);
