#!/usr/bin/env bash
# Regenerates the committed protobuf/gRPC code from proto/. Needs protoc
# (Debian: protobuf-compiler) and the pinned plugins below.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "installing protobuf-compiler"; apt-get install -y -qq protobuf-compiler; }
export GOBIN="$PWD/.local/bin"
export PATH="$GOBIN:$PATH"
go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
protoc -I proto \
  --go_out=. --go_opt=module=github.com/gintoki/gintoki \
  --go-grpc_out=. --go-grpc_opt=module=github.com/gintoki/gintoki \
  proto/gintoki/inventory/v1/inventory.proto
