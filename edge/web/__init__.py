"""The page: the Starlette app, its sessions and the board it shows."""
