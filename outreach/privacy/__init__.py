"""Data protection: the record of access, subject access, erasure, restriction and retention (docs/privacy.md)."""
