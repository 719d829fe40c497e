"""Errors of the SFTP transport. No paramiko exception ever leaves ``adapters.sftp``.

Each error has a stable ``code`` so that jobs and operators can tell them apart.
"""

from __future__ import annotations


class SftpError(Exception):
    """Base class of every SFTP transport error."""

    code = "SFTP"


class SftpConfigError(SftpError):
    """A setting is wrong (URL, pinned keys, timeouts): fix the configuration."""

    code = "SFTP_CONFIG"


class HostKeyError(SftpError):
    """The server's host key is not one pinned for the partner (unknown or changed).

    Never retried: it may be an attack; an operator must check with the partner.
    """

    code = "SFTP_HOST_KEY"


class AuthError(SftpError):
    """The server refused our client key. Never retried."""

    code = "SFTP_AUTH"


class TransientError(SftpError):
    """A network failure (refused, reset, timeout, EOF) that outlasted every retry."""

    code = "SFTP_NETWORK"


class RemoteFileError(SftpError):
    """The server refused a file operation (no such file, permission denied...)."""

    code = "SFTP_REMOTE"


class UploadError(SftpError):
    """An upload did not land whole (size after rename differs from what was sent)."""

    code = "SFTP_UPLOAD"


class LocalFileError(SftpError):
    """Our side failed: the file to upload cannot be read, or the spool cannot be written."""

    code = "SFTP_LOCAL"
