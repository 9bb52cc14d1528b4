//! Server-only parts of managing one user.
