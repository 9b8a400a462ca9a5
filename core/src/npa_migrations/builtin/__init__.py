"""The core's own behaviour, shipped as ordinary plugins (registered after entry points)."""
