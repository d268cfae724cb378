"""The Asterisk queue_log adapter, in parts: lines, events, contacts, agent states.

The registered format lives in ``servicelevel.sources.asterisk_queue_log``; these modules
are its internals (see ``docs/sources/asterisk_queue_log.md``).
"""
