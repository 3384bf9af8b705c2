//! ApiDomainName: not implemented yet.

crate::unimplemented_driver!(ApiDomainName);
