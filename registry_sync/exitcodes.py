"""The exit codes of every command, in one place.

0 success; 1 error, invalid models or a policy violation; 2 changes present
(``plan --detailed-exitcode``); 3 some writes landed and others failed, or a run
that wrote was interrupted; 4 ``apply --verify-health`` found an entry it wrote
unhealthy (rolled back or not), or ``health`` found a managed entry unavailable.
"""

__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "EXIT_PARTIAL", "EXIT_UNHEALTHY"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_PARTIAL = 3
EXIT_UNHEALTHY = 4
