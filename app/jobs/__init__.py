"""Heavy work off the request path, on Dramatiq (see docs/DESIGN.md, "Jobs").

``engine`` wraps the broker, the actor and the in-process pool; ``store`` owns the
job row (the source of truth); ``runners`` says what each job kind does; ``worker``
is the process entry point.
"""
