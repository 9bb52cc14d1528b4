//! Server-only parts of duplicates and merge.
