//! Renderers of a [`RunReport`](crate::check::RunReport), one file per format (the runner knows
//! nothing about them): human text, JSON, JUnit XML, one self-contained HTML page.
//! Files are written with [`crate::files::write_atomic`].

pub mod html;
pub mod human;
pub mod json;
pub mod junit;
