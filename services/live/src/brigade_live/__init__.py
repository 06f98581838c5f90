"""The live feed: inventory, order and notification events relayed to browsers over a WebSocket."""
