"""Data-subject rights and key hygiene: access export, erasure, key rotation, retention."""
