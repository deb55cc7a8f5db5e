"""Developer tooling (not shipped in the extension)."""
