"""Layer 2, protocol: the wire protocol of docs/protocol.md — frames (wire), the windowed link
with its re-sends (link, window, noise, requests), byte streams (streams) and the one client every
board is driven through (client). wire.py is stdlib-only: it is shipped to Linux boards with the agent."""
