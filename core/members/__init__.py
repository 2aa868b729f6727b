"""Members (会员), households, membership transfers, and roster import/export.

See docs/members.md. Modules: ``tables`` (piccolo), ``services`` (writes), ``queries`` (reads),
``graphql``, ``http`` (file upload/download routes), ``jobs``, ``importer`` + ``roster`` (reading
files), ``exporter``, ``validation``, ``personal`` (encryption contexts, blind indexes, masks),
``filestore`` (encrypted files at rest), ``pii_keys`` (the keyring), ``keys`` (key rotation), ``vocab``.
"""
