//! XML below the WS-Man model: bounded reading, a generic element tree, lazily kept fragments,
//! a prefix-choosing writer and the equivalence the harness compares messages by.
//!
//! Nothing here knows SOAP or WS-Management beyond namespace constants.

mod element;
mod equiv;
mod fragment;
mod intern;
mod lexer;
mod name;
mod reader;
mod run;
mod scopes;
mod writer;

pub use element::{Element, Node};
pub use equiv::{Difference, EquivError, compare_elements, compare_in_scope, equivalent, resolve};
pub use fragment::Fragment;
pub use intern::{local as intern_local, prefix as intern_prefix};
pub use lexer::{Attributes, LexError, Lexer, Tag, Token};
pub use name::{Attribute, QName, attr, same_attrs};
pub use reader::{
    Cursor, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Decoded, ErrorKind, Ev, Limits, ParseError,
    decode, describe, parse_document,
};
pub use run::Run;
pub use writer::{PrefixStyle, Written, XmlWriter};
