"""A stand-in service for the supervisor tests: `python -m devstack_fakesvc api|migrate|seed`.

Its name comes from FAKE_NAME; it reads `<NAME>_HTTP_PORT` like a real service (and, as a replica,
`<NAME>_HTTP_REUSE_PORT`, `<NAME>_HTTP_INSTANCE_PORT` and `<NAME>_INSTANCE`, which /readyz answers),
and FAKE_MODE picks a misbehaviour. Every start is appended to `$FAKE_STATE/<name>.starts` (pid and time).
"""
