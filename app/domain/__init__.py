"""The service's documents and words: fields, weed maps, labels, strategies, units.

Pure pydantic (and the dosing core's types); no web framework, no database.
Kept empty so importing one module (``app.domain.units``) pulls in nothing else.
"""
