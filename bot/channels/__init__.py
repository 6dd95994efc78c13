"""Channel adapters: they turn provider traffic into Inbound and Outgoing into provider calls."""
