#!/bin/sh
# Migrate once, then hand the process over to the server (gunicorn and its workers,
# which do not migrate: they build the app with migrate=False).
set -eu
dosewise migrate
exec "$@"
