"""Beyond the door: venues, group sessions (job clubs, drop-ins, partner surgeries, classes), "What's on" and the
attendance register, which works offline like the walk list."""
