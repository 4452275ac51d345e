// Package container holds Gintoki's Containerfile (built by `make image`,
// scripts/image.sh) and the test that checks it without a container
// runtime: a static binary on an empty base, run as a non-root user.
package container
