//! Server-only parts of the staff page.
