//! Server-only parts of the audit log.
