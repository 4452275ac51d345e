// Package e2e checks the deploy artifacts against a running system: it
// starts the local stack (scripts/run.sh: MariaDB, dev broker, relay,
// service) on free ports with data in a temporary directory, puts a little
// load on it, starts a real Prometheus (Debian's package) scraping it with
// the alert rules loaded, and runs every query of the Grafana dashboard
// through Prometheus's HTTP API: each must parse and return data. It also
// checks that the Kubernetes manifests' probe paths answer on the running
// service and relay.
package e2e
