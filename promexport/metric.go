package promexport

import "github.com/prometheus/client_golang/prometheus"

// counter is a counter's value at scrape time.
func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

// gauge is a gauge's value at scrape time.
func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// bool01 is a condition as a gauge: 1 while it holds.
func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// describe sends descs; a collector's Describe.
func describe(ch chan<- *prometheus.Desc, descs ...*prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

// desc is an unlabelled metric's descriptor.
func desc(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
