//! InternetGateway: not implemented yet.

crate::unimplemented_driver!(InternetGateway);
