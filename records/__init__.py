"""MesoGuide's clinic records: models, engine/session factory, migrations and store.

Importing this package (or any of its modules) never opens a database connection
or creates a file; engines are built lazily by :func:`records.db.get_engine`.
"""
