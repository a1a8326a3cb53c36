"""The fetcher's error taxonomy, and what each error means for the item being fetched.

===========================  =========================================  ==================
error                        raised when                                 effect
===========================  =========================================  ==================
``TransientFetchError``      connection refused/reset, DNS failure,      retried (backoff)
                             timeout, token endpoint unreachable
``HttpStatusError``          the server answered >= 400                  retried when 408,
                                                                         429 or 5xx
                                                                         (``Retry-After``
                                                                         honoured), else
                                                                         the item fails
``RetriesExhaustedError``    the last retryable attempt failed           the item fails
``BlockedAddressError``      the host (or a redirect hop) resolves to    the item fails
                             a non-public address not allowlisted
``ResponseTooLargeError``    the decoded body passed max_response_bytes  the item fails
``RedirectError``            too many redirects, or a non-http(s) one    the item fails
``TemplateError``            unknown variable, or the rendered URL       the item fails
                             would change scheme or host
``PaginationError``          a repeated cursor / next URL (loop), or a   the item fails
                             next URL on another host                    (pages already
                                                                         fetched are kept)
``CredentialError``          a secret cannot be read, the token          the item fails
                             endpoint refused the client
===========================  =========================================  ==================

"The item fails" means: it is recorded in ``FetchOutcome.failures`` and the other items go
on; the task reports ``partial`` (some documents) or ``failed`` (none), and the planner does
not advance the completed watermark. Nothing here is ever dead-lettered by the fetcher: a
work item always produces a result. Error texts pass through ``SecretMasker`` before they
leave the service.
"""

from __future__ import annotations

__all__ = [
    "BlockedAddressError",
    "CredentialError",
    "FetchError",
    "HttpStatusError",
    "PaginationError",
    "PaginationLoopError",
    "RedirectError",
    "ResponseTooLargeError",
    "RetriesExhaustedError",
    "TemplateError",
    "TransientFetchError",
]


class FetchError(Exception):
    """Base of every error the fetcher raises on purpose."""


class TransientFetchError(FetchError):
    """A connection error, DNS failure or timeout: worth another attempt."""


class HttpStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RetriesExhaustedError(FetchError):
    """Every attempt failed with a retryable error."""


class BlockedAddressError(FetchError, PermissionError):
    """The host resolves to an address the fetcher may not reach (SSRF guard)."""


class ResponseTooLargeError(FetchError):
    """The decoded body passed ``max_response_bytes``."""


class RedirectError(FetchError):
    """More redirects than ``max_redirects``, or a redirect to a non-http(s) URL."""


class TemplateError(FetchError, ValueError):
    """A template names an unknown value, or rendering would change scheme or host."""


class PaginationError(FetchError):
    """Pagination cannot go on safely."""


class PaginationLoopError(PaginationError):
    """The API returned a cursor or next URL it had returned before."""


class CredentialError(FetchError):
    """A credential cannot be obtained (secret unreadable, token endpoint refused)."""
