//! HttpApi: not implemented yet.

crate::unimplemented_driver!(HttpApi);
