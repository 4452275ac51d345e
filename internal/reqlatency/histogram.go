// Package reqlatency is the request latency histogram both transports
// export, gintoki_request_duration_seconds{transport, route, code}, with
// its observers cached per label pair so that a request hashes no label
// values once its pair has been seen.
//
// It imports Prometheus's client and the standard library only: no project
// package, so both transports use it without depending on each other
// (internal/archtest).
package reqlatency

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// buckets span 50 µs (a cache hit) to 2.5 s (a fill that waits for its
// timeout).
var buckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Histogram is one transport's request latency, keyed by K, the
// transport's own (route, outcome) pair. It is safe for concurrent use.
type Histogram[K comparable] struct {
	vec *prometheus.HistogramVec
	// labels turns a key into its route and code labels; it runs once per
	// key, when the key is first observed.
	labels    func(K) (route, code string)
	observers sync.Map // K → prometheus.Observer
}

// New returns the histogram of transport ("grpc", "http"), whose keys are
// labelled by labels.
func New[K comparable](transport string, labels func(K) (route, code string)) *Histogram[K] {
	return &Histogram[K]{
		vec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "gintoki_request_duration_seconds",
			Help:        "Latency of API requests by transport, route and status code; _count is the request count.",
			ConstLabels: prometheus.Labels{"transport": transport},
			Buckets:     buckets,
		}, []string{"route", "code"}),
		labels: labels,
	}
}

// Collector returns the histogram for registration.
func (h *Histogram[K]) Collector() prometheus.Collector { return h.vec }

// Observer returns the observer of k, from the cache after k's first use.
func (h *Histogram[K]) Observer(k K) prometheus.Observer {
	if o, ok := h.observers.Load(k); ok {
		return o.(prometheus.Observer)
	}
	o := h.vec.WithLabelValues(h.labels(k))
	h.observers.Store(k, o)
	return o
}
