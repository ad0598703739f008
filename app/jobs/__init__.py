"""Background jobs (README "Workers"): due closes run as one job per chunk of contracts.

``queue`` holds where jobs go (PgQueuer on PostgreSQL, an in-process asyncio queue otherwise),
``handlers`` what a job does, ``schedule`` the periodic due close, ``worker`` the PgQueuer
consumer (``commitments worker`` and the server's in-process one), ``engine`` PgQueuer's tables.
"""
