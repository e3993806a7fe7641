"""The HTTP layer: aiohttp doors, the JSON control API, and server start and stop."""
