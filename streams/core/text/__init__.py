"""The text path: format detection, extraction, normalization, boilerplate removal, language.

Every function here is pure and total: it returns a value or raises one
:class:`streams.core.errors.InputError` subclass.
"""
