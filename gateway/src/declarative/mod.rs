//! Kong's declarative configuration format (`_format_version: "3.0"`), parsed with file:line errors (to be written).
