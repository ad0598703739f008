"""Use cases: one async function per operation; each owns its transaction."""
