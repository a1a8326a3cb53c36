"""Thin edge helpers every service would otherwise copy: settings, logging, the app shell,
the sidecar client and pub/sub subscription registration."""
