"""Call-backs: promises to residents, due at their time until kept by a visit or closed with a reason."""
