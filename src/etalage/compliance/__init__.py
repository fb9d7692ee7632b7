"""Compliance: notices, moderation decisions and appeals (DSA), transparency, data export and erasure (GDPR)."""
