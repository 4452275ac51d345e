// Package kubernetes holds Gintoki's Kubernetes manifests (the YAML files
// in this directory, applied with `kubectl apply -k`) and the tests that
// decode them strictly into the Kubernetes API types and check them
// against the binary: probes on endpoints it serves, flags it accepts,
// memory derived from --cache-bytes.
package kubernetes
