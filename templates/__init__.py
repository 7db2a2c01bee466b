"""Jinja2 letters, digests and reports (HTML and plain text) sharing one letterhead.

This file exists so the folder installs as package data and can be found with
``Path(templates.__file__).parent``; the templates themselves are the ``*.j2`` files.
"""
