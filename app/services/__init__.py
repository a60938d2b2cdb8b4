"""What the service does with stored things: fields, weed maps, products, prescriptions, exports, advice.

Each function takes a SQLAlchemy ``Session`` and domain documents
(``app.domain``), reads and writes through ``app.models.repo``, and only
flushes: the caller (the request's session dependency, the CLI, the sample
loader) commits or rolls back. Nothing here knows HTTP.
"""
