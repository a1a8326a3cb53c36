"""The local runtime: Dapr CLI, daprd, scheduler, Redis, PostgreSQL + DocumentDB, FerretDB.

``binaries`` finds (or obtains) the Dapr and FerretDB binaries, ``postgres`` prepares
the embedded MongoDB, ``stack`` starts and stops everything, ``supervisor`` keeps the apps and sidecars up.
"""
