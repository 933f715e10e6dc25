#!/bin/sh
# moto's server on 127.0.0.1, a local stand-in for AWS (CloudWatch Logs among the rest), for the
# CloudWatch forwarder's tests and for trying `--forward cloudwatch://…` by hand:
#
#   scripts/moto.sh [PORT]    installs moto when missing (scripts/ensure-moto.sh), then runs
#                             moto_server on 127.0.0.1:PORT (default 5000) in the foreground.
#
# Then: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
#         logmon --forward 'cloudwatch://us-east-1?endpoint=http://127.0.0.1:5000'
# `curl -X POST http://127.0.0.1:PORT/moto-api/reset` forgets every group and stream.
set -eu

server="$(sh "$(dirname "$0")/ensure-moto.sh")"
exec "$server" -H 127.0.0.1 -p "${1:-5000}"
