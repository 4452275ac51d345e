package grafana

// Selectors: the nodes chosen by the "instance" variable, and the relays.
const (
	node  = `job="gintoki", instance=~"$instance"`
	relay = `job="gintoki-relay"`
	procs = `job=~"gintoki|gintoki-relay"`
	ri    = `[$__rate_interval]`
)

func rate(metric, sel, by string) string {
	return "sum by (" + by + ") (rate(" + metric + "{" + sel + "}" + ri + "))"
}

func quantile(q, metric, sel, by string) string {
	return "histogram_quantile(" + q + ", sum by (" + by + ", le) (rate(" + metric + "_bucket{" + sel + "}" + ri + ")))"
}

// rows is the dashboard, top to bottom.
var rows = []row{
	{"Overview", []panel{
		{title: "Nodes ready", stat: true, unit: "none", desc: "Nodes whose /readyz answers 200 (gintoki_ready), of the nodes scraped.",
			targets: []target{{`sum(gintoki_ready{` + node + `})`, "ready"}, {`count(up{` + node + `} == 1)`, "scraped"}}},
		{title: "Relay leaders", stat: true, unit: "none", desc: "Relays holding leadership: 1 when healthy.",
			targets: []target{{`sum(gintoki_relay_leader{` + relay + `})`, "leaders"}}},
		{title: "Nodes warming", stat: true, unit: "none", desc: "Nodes loading their cache before they report ready (gintoki_warming; /readyz answers \"warming\").",
			targets: []target{{`sum(gintoki_warming{` + node + `})`, "warming"}}},
		{title: "Nodes marking answers stale", stat: true, unit: "none", desc: "Nodes answering with X-Gintoki-Stale: true (gintoki_stale): behind the bound, or the stream is silent.",
			targets: []target{{`sum(gintoki_stale{` + node + `})`, "stale"}}},
		{title: "Requests per second", stat: true, unit: "reqps", desc: "All API requests, both transports.",
			targets: []target{{`sum(rate(gintoki_request_duration_seconds_count{` + node + `}` + ri + `))`, "req/s"}}},
	}},
	{"Traffic and latency", []panel{
		{title: "Requests per second by transport", unit: "reqps",
			targets: []target{{rate("gintoki_request_duration_seconds_count", node, "transport"), "{{transport}}"}}},
		{title: "Latency by transport (p50, p99)", unit: "s", desc: "From the request's arrival to its answer, per transport (gintoki_request_duration_seconds).",
			targets: []target{
				{quantile("0.5", "gintoki_request_duration_seconds", node, "transport"), "p50 {{transport}}"},
				{quantile("0.99", "gintoki_request_duration_seconds", node, "transport"), "p99 {{transport}}"},
			}},
		{title: "Requests per second by route and code", unit: "reqps",
			targets: []target{{rate("gintoki_request_duration_seconds_count", node, "transport, route, code"), "{{transport}} {{route}} {{code}}"}}},
		{title: "Errors (share of requests)", unit: "percentunit", desc: "Requests not answered with success or not-found (HTTP 2xx/404, gRPC OK/NotFound).",
			targets: []target{{`1 - ` + rate("gintoki_request_duration_seconds_count", node+`, code=~"2..|404|OK|NotFound"`, "transport") +
				` / ` + rate("gintoki_request_duration_seconds_count", node, "transport"), "{{transport}}"}}},
		{title: "Latency p99 by route", unit: "s",
			targets: []target{{quantile("0.99", "gintoki_request_duration_seconds", node, "transport, route"), "{{transport}} {{route}}"}}},
	}},
	{"Cache", []panel{
		{title: "Hit ratio", unit: "percentunit", desc: "Reads answered from the cache (positive and negative entries) among all reads.",
			targets: []target{{`(` + rate("gintoki_cache_hits_total", node, "instance") + ` + ` + rate("gintoki_cache_negative_hits_total", node, "instance") + `) / (` +
				rate("gintoki_cache_hits_total", node, "instance") + ` + ` + rate("gintoki_cache_negative_hits_total", node, "instance") + ` + ` +
				rate("gintoki_cache_misses_total", node, "instance") + `)`, "{{instance}}"}}},
		{title: "Reads by outcome", unit: "ops",
			targets: []target{
				{rate("gintoki_cache_hits_total", node, "instance"), "hits {{instance}}"},
				{rate("gintoki_cache_negative_hits_total", node, "instance"), "negative hits {{instance}}"},
				{rate("gintoki_cache_misses_total", node, "instance"), "misses {{instance}}"},
			}},
		{title: "Entries", unit: "short", desc: "Cached products, negative entries included (gintoki_cache_entries).",
			targets: []target{{`gintoki_cache_entries{` + node + `}`, "{{instance}}"}}},
		{title: "Cache capacity and resident memory", unit: "bytes", desc: "--cache-bytes (preallocated; resident as entries fill it) and the process's RSS.",
			targets: []target{
				{`gintoki_cache_bytes{` + node + `}`, "capacity {{instance}}"},
				{`process_resident_memory_bytes{` + node + `}`, "RSS {{instance}}"},
			}},
		{title: "Evictions per second", unit: "ops", desc: "Entries evicted to make room: steadily above 0, the working set does not fit (alert GintokiCacheEvictions).",
			targets: []target{{rate("gintoki_cache_evictions_total", node, "instance"), "{{instance}}"}}},
		{title: "Warm start", unit: "short", desc: "Products the warm start (--warm) has read into the cache, and its target when it warms a key list (0: every product, " +
			"until the cache is full). A node is not ready until it is done (gintoki_warming).",
			targets: []target{
				{`gintoki_warm_products_loaded_total{` + node + `}`, "loaded {{instance}}"},
				{`gintoki_warm_target_products{` + node + `}`, "target {{instance}}"},
			}},
		{title: "Warm start rate and duration", unit: "short", desc: "Products warmed per second, and how long the warm ran (seconds).",
			targets: []target{
				{rate("gintoki_warm_products_loaded_total", node, "instance"), "products/s {{instance}}"},
				{`gintoki_warm_seconds{` + node + `}`, "seconds {{instance}}"},
			}},
		{title: "Coalesced waiters, re-renders, dropped entries", unit: "ops",
			targets: []target{
				{rate("gintoki_coalesced_waiters_total", node, "instance"), "coalesced {{instance}}"},
				{rate("gintoki_cache_rerenders_total", node, "instance"), "re-rendered {{instance}}"},
				{rate("gintoki_cache_corrupt_entries_total", node, "instance") + ` + ` + rate("gintoki_cache_oversize_total", node, "instance"), "corrupt or oversize {{instance}}"},
			}},
	}},
	{"Freshness", []panel{
		{title: "Commit → applied (p50, p99)", unit: "s", desc: "From the source's commit (event source.ts_ms, whole seconds with the relay) to the change applied on the node.",
			targets: []target{
				{quantile("0.5", "gintoki_change_apply_delay_seconds", node, "instance"), "p50 {{instance}}"},
				{quantile("0.99", "gintoki_change_apply_delay_seconds", node, "instance"), "p99 {{instance}}"},
			}},
		{title: "Consumer lag (seconds)", unit: "s", desc: "How long the node's most-behind partition has had unconsumed records.",
			targets: []target{{`max by (instance) (gintoki_consumer_lag_seconds{` + node + `})`, "{{instance}}"}}},
		{title: "Consumer lag (records)", unit: "short",
			targets: []target{{`sum by (instance) (gintoki_consumer_lag_records{` + node + `})`, "{{instance}}"}}},
		{title: "Source age and last applied change", unit: "s", desc: "Age of the latest source time the stream showed (change or heartbeat), and of the last change applied.",
			targets: []target{
				{`gintoki_change_source_age_seconds{` + node + `}`, "source {{instance}}"},
				{`gintoki_change_last_applied_age_seconds{` + node + `}`, "last applied {{instance}}"},
			}},
		{title: "Staleness against the bound", unit: "s", desc: "How old an answer formed now can be (gintoki_staleness_seconds), against --max-staleness; answers are marked stale above it.",
			targets: []target{
				{`gintoki_staleness_seconds{` + node + `}`, "staleness {{instance}}"},
				{`gintoki_max_staleness_seconds{` + node + `}`, "bound {{instance}}"},
			}},
		{title: "Inspector: samples and mismatches", unit: "short", desc: "Cached keys compared with a fresh database read, and those still wrong after the bound (should stay 0).",
			targets: []target{
				{`increase(gintoki_inspector_samples_total{` + node + `}[5m])`, "samples {{instance}}"},
				{`gintoki_inspector_mismatches_total{` + node + `}`, "mismatches {{instance}}"},
			}},
		{title: "Stale answers, readiness, consumer state", unit: "none",
			targets: []target{
				{`gintoki_stale{` + node + `}`, "stale {{instance}}"},
				{`gintoki_ready{` + node + `}`, "ready {{instance}}"},
				{`gintoki_consumer_attached{` + node + `}`, "attached {{instance}}"},
				{`gintoki_consumer_caught_up{` + node + `}`, "caught up {{instance}}"},
			}},
		{title: "Changes per second", unit: "ops", desc: "Records decoded, changes that altered the cache, and changes for uncached products or already reflected.",
			targets: []target{
				{rate("gintoki_changes_total", node, "instance"), "records {{instance}}"},
				{rate("gintoki_changes_applied_total", node, "instance"), "applied {{instance}}"},
				{rate("gintoki_changes_ignored_total", node, "instance"), "ignored {{instance}}"},
			}},
		{title: "Rejected change events and the evictions they caused", unit: "ops", desc: "Records skipped because they cannot be applied (alert GintokiChangesRejected on malformed ones), and what the node evicted so that no stale answer stays behind.",
			targets: []target{
				{rate("gintoki_changes_rejected_total", node, "instance, reason"), "{{reason}} {{instance}}"},
				{rate("gintoki_changes_rejected_evictions_total", node, "instance, scope"), "evicted {{scope}} {{instance}}"},
				{rate("gintoki_invalidations_total", node, "instance"), "invalidations {{instance}}"},
			}},
	}},
	{"Database", []panel{
		{title: "Loads per second", unit: "ops", desc: "Consistent-snapshot loads started by cache misses (one per batch of misses).",
			targets: []target{{rate("gintoki_db_loads_total", node, "instance"), "{{instance}}"}}},
		{title: "Load latency (p50, p99)", unit: "s",
			targets: []target{
				{quantile("0.5", "gintoki_db_load_duration_seconds", node, "kind"), "p50 {{kind}}"},
				{quantile("0.99", "gintoki_db_load_duration_seconds", node, "kind"), "p99 {{kind}}"},
			}},
		{title: "Load failures and snapshot retries", unit: "ops", desc: "Failed loads (the requests got errors) and loads retried because the snapshot was behind a consumed change.",
			targets: []target{
				{rate("gintoki_db_load_failures_total", node, "instance"), "failures {{instance}}"},
				{rate("gintoki_db_snapshot_retries_total", node, "instance"), "snapshot retries {{instance}}"},
			}},
		{title: "Fills behind the stream", unit: "short", desc: "Products waiting for a snapshot that includes a consumed change (gintoki_fill_marks), misses answered uncached and marked stale, and whether fills are failing (the node is then not ready).",
			targets: []target{
				{`gintoki_fill_marks{` + node + `}`, "marked products {{instance}}"},
				{rate("gintoki_fills_uncached_total", node, "instance"), "uncached answers/s {{instance}}"},
				{`gintoki_fills_failing{` + node + `}`, "fills failing {{instance}}"},
			}},
	}},
	{"Relay", []panel{
		{title: "Relay leadership", unit: "none", desc: "1 on the relay that holds the lock and publishes, 0 on a standby; the sum must be 1 (alerts GintokiNoRelayLeader, GintokiRelaySplitLeadership). Terms started and leaderships lost.",
			targets: []target{
				{`gintoki_relay_leader{` + relay + `}`, "leader {{instance}}"},
				{`sum(gintoki_relay_leader{` + relay + `})`, "leaders"},
				{`increase(gintoki_relay_leader_terms_total{` + relay + `}` + ri + `)`, "terms started {{instance}}"},
				{`increase(gintoki_relay_leader_lost_total{` + relay + `}` + ri + `)`, "leaderships lost {{instance}}"},
			}},
		{title: "Relay lag", unit: "s", desc: "time() - gintoki_relay_caught_up_timestamp_seconds: how far behind the binlog each relay is (also while the database is idle).",
			targets: []target{{`time() - gintoki_relay_caught_up_timestamp_seconds{` + relay + `}`, "{{instance}}"}}},
		{title: "Binlog stream open", unit: "none",
			targets: []target{{`gintoki_relay_streaming{` + relay + `}`, "{{instance}}"}}},
		{title: "Commit → acknowledged by the broker (p50, p99)", unit: "s",
			targets: []target{
				{quantile("0.5", "gintoki_relay_commit_to_ack_seconds", relay, "instance"), "p50 {{instance}}"},
				{quantile("0.99", "gintoki_relay_commit_to_ack_seconds", relay, "instance"), "p99 {{instance}}"},
			}},
		{title: "Transactions and row changes per second", unit: "ops",
			targets: []target{
				{rate("gintoki_relay_transactions_total", relay, "instance"), "transactions {{instance}}"},
				{rate("gintoki_relay_changes_total", relay, "instance"), "row changes {{instance}}"},
			}},
		{title: "Messages", unit: "short",
			targets: []target{
				{rate("gintoki_relay_messages_published_total", relay, "instance"), "published/s {{instance}}"},
				{rate("gintoki_relay_messages_acked_total", relay, "instance"), "acknowledged/s {{instance}}"},
				{`gintoki_relay_messages_in_flight{` + relay + `}`, "in flight {{instance}}"},
			}},
		{title: "Heartbeats and checkpoints", unit: "ops",
			targets: []target{
				{rate("gintoki_relay_heartbeats_total", relay, "instance"), "heartbeats {{instance}}"},
				{rate("gintoki_relay_checkpoint_saves_total", relay, "instance"), "checkpoint saves {{instance}}"},
				{rate("gintoki_relay_checkpoint_errors_total", relay, "instance"), "checkpoint errors {{instance}}"},
			}},
	}},
	{"Runtime", []panel{
		{title: "GC pauses (p99, longest recent)", unit: "s", desc: "Stop-the-world pauses: the nodes' histogram (gintoki_gc_pause_seconds; can overstate on a CPU-starved machine) and the longest of the last pauses of every process.",
			targets: []target{
				{quantile("0.99", "gintoki_gc_pause_seconds", node, "instance"), "p99 {{instance}}"},
				{`max by (job, instance) (go_gc_duration_seconds{` + procs + `, quantile="1"})`, "longest {{job}} {{instance}}"},
			}},
		{title: "GC cycles per second", unit: "ops",
			targets: []target{{rate("go_gc_duration_seconds_count", procs, "job, instance"), "{{job}} {{instance}}"}}},
		{title: "Memory", unit: "bytes",
			targets: []target{
				{`process_resident_memory_bytes{` + procs + `}`, "RSS {{job}} {{instance}}"},
				{`go_memstats_heap_inuse_bytes{` + procs + `}`, "heap in use {{job}} {{instance}}"},
			}},
		{title: "CPU", unit: "percentunit", desc: "Cores used (1 = one core).",
			targets: []target{{rate("process_cpu_seconds_total", procs, "job, instance"), "{{job}} {{instance}}"}}},
		{title: "Goroutines", unit: "short",
			targets: []target{{`go_goroutines{` + procs + `}`, "{{job}} {{instance}}"}}},
	}},
}
