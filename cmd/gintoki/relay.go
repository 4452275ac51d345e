package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/relay"
)

// relayConfig is the configuration of gintoki relay.
type relayConfig struct {
	DBAddr          string
	DBUser          string
	DBPassword      string
	Database        string
	Tables          string
	ServerID        uint
	Brokers         string
	Kafka           kafkaFlags
	TopicPrefix     string
	TopicPartitions int
	CheckpointFile  string
	MetricsAddr     string
	Heartbeat       time.Duration
	Log             logConfig
}

func (c *relayConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DBAddr, "db-addr", "127.0.0.1:3307", "MySQL/MariaDB address, host:port")
	fs.StringVar(&c.DBUser, "db-user", "root", "database user; needs REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR on MariaDB)")
	fs.StringVar(&c.DBPassword, "db-password", "", "database password")
	fs.StringVar(&c.Database, "database", "inventory", "database whose tables are relayed")
	fs.StringVar(&c.Tables, "tables", "warehouse,warehouse_stock_item", "tables to relay, comma-separated")
	fs.UintVar(&c.ServerID, "server-id", 1001, "replica server id the relay registers with; unique among the server's replicas")
	fs.StringVar(&c.Brokers, "brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
	c.Kafka.flags(fs)
	fs.StringVar(&c.TopicPrefix, "topic-prefix", debezium.EncoderDefaultPrefix, "topic prefix: topics are <prefix>.<database>.<table> (Debezium's topic.prefix)")
	fs.IntVar(&c.TopicPartitions, "topic-partitions", kafka.PublisherDefaultPartitions, "partitions of the topics the relay creates")
	fs.StringVar(&c.CheckpointFile, "checkpoint-file", ".local/relay/checkpoint.json", "file holding the binlog position to resume from; without it the relay starts at the current end of the binlog")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "HTTP listen address for /metrics, /healthz and /readyz (empty: none)")
	fs.DurationVar(&c.Heartbeat, "heartbeat-interval", relay.DefaultHeartbeatInterval, "how often to publish a heartbeat to __debezium-heartbeat.<topic-prefix> while the database is idle, so that nodes can tell a quiet database from a stopped relay (0: never)")
	c.Log.flags(fs)
}

// relayList splits a comma-separated flag value, dropping blanks.
func relayList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c *relayConfig) validate() error {
	var errs []error
	if c.ServerID == 0 || c.ServerID > math.MaxUint32 {
		errs = append(errs, fmt.Errorf("--server-id must be between 1 and %d", uint32(math.MaxUint32)))
	}
	if strings.TrimSpace(c.Database) == "" {
		errs = append(errs, errors.New("--database is required"))
	}
	if len(relayList(c.Tables)) == 0 {
		errs = append(errs, errors.New("--tables needs at least one table"))
	}
	if len(relayList(c.Brokers)) == 0 {
		errs = append(errs, errors.New("--brokers is required"))
	}
	if c.TopicPartitions < 1 || c.TopicPartitions > math.MaxInt32 {
		errs = append(errs, errors.New("--topic-partitions must be positive"))
	}
	if c.Heartbeat < 0 {
		errs = append(errs, errors.New("--heartbeat-interval must not be negative"))
	}
	if strings.TrimSpace(c.CheckpointFile) == "" {
		errs = append(errs, errors.New("--checkpoint-file is required"))
	}
	errs = append(errs, c.Kafka.validate())
	return errors.Join(errs...)
}

func runRelay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg relayConfig
	fs := newFlagSet("relay", "Tail the MySQL/MariaDB binlog and publish Debezium-style change events to Kafka, at least once.", stderr)
	cfg.flags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Kafka.resolve(os.LookupEnv)
	if err := cfg.validate(); err != nil {
		return err
	}
	log, err := cfg.Log.logger(stdout)
	if err != nil {
		return err
	}
	return relayUntilDone(ctx, cfg, log, nil) // main reports an error
}

// relayUntilDone builds the relay and runs it until ctx ends (then it
// stops reading, waits for the broker's acknowledgements, saves the
// position and returns nil) or it fails. If listening is not nil it
// receives the metrics endpoint's address (for tests).
func relayUntilDone(ctx context.Context, cfg relayConfig, log *slog.Logger, listening func(metricsAddr string)) error {
	src, err := binlog.New(binlog.Config{
		Addr:     cfg.DBAddr,
		User:     cfg.DBUser,
		Password: cfg.DBPassword,
		Database: cfg.Database,
		Tables:   relayList(cfg.Tables),
		ServerID: uint32(cfg.ServerID),
		Logger:   log,
	})
	if err != nil {
		return err
	}
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{
		Brokers:    relayList(cfg.Brokers),
		Partitions: int32(cfg.TopicPartitions),
		Security:   cfg.Kafka.security(),
		Logger:     log,
	})
	if err != nil {
		return err
	}
	defer pub.Close() // after Run, which waits for what is in flight
	delay := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gintoki_relay_commit_to_ack_seconds",
		Help:    "Time from a transaction's commit to the broker's acknowledgement of its last message.",
		Buckets: []float64{.001, .0025, .005, .0075, .01, .015, .02, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	heartbeat := cfg.Heartbeat
	if heartbeat == 0 {
		heartbeat = -1 // off
	}
	r, err := relay.New(relay.Config{
		Source:            src,
		Encoder:           debezium.NewEncoder(cfg.TopicPrefix),
		Publisher:         pub,
		Checkpoint:        relay.NewFileCheckpoint(cfg.CheckpointFile),
		Logger:            log,
		HeartbeatInterval: heartbeat,
		AckDelay:          func(d time.Duration) { delay.Observe(d.Seconds()) },
	})
	if err != nil {
		return err
	}
	if err := cfg.Kafka.checkKafka(ctx, relayList(cfg.Brokers), log); err != nil {
		return err
	}
	log.Info("relay configured", "db_addr", cfg.DBAddr, "database", cfg.Database, "tables", relayList(cfg.Tables),
		"brokers", cfg.Brokers, "topic_prefix", cfg.TopicPrefix, "checkpoint_file", cfg.CheckpointFile)
	if cfg.MetricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), delay)
		registerRelayStats(reg, r.Stats())
		stop, addr, err := serveRelayMetrics(cfg.MetricsAddr, reg, r.Stats(), log)
		if err != nil {
			return err
		}
		defer stop()
		log.Info("relay metrics", "addr", addr)
		if listening != nil {
			listening(addr)
		}
	}
	return r.Run(ctx)
}

// registerRelayStats exports the relay's counters, read at scrape time.
func registerRelayStats(reg prometheus.Registerer, st *relay.Stats) {
	counterFunc(reg, "gintoki_relay_transactions_total", "Transactions read from the change stream that had row changes to publish.", load(&st.Transactions))
	counterFunc(reg, "gintoki_relay_changes_total", "Row changes read from those transactions.", load(&st.Changes))
	counterFunc(reg, "gintoki_relay_messages_published_total", "Messages handed to the broker client.", load(&st.Published))
	counterFunc(reg, "gintoki_relay_messages_acked_total", "Messages the broker acknowledged.", load(&st.Acked))
	gaugeFunc(reg, "gintoki_relay_messages_in_flight", "Messages published and not yet acknowledged.", func() float64 {
		return float64(st.Published.Load()) - float64(st.Acked.Load())
	})
	counterFunc(reg, "gintoki_relay_checkpoint_saves_total", "Stream positions saved to the checkpoint.", load(&st.CheckpointSaves))
	counterFunc(reg, "gintoki_relay_checkpoint_errors_total", "Failed checkpoint saves (retried).", load(&st.CheckpointErrors))
	counterFunc(reg, "gintoki_relay_heartbeats_total", "Heartbeat messages the broker acknowledged.", load(&st.Heartbeats))
	gaugeFunc(reg, "gintoki_relay_streaming", "1 while the change stream is open, else 0.", func() float64 {
		if st.Streaming() {
			return 1
		}
		return 0
	})
	gaugeFunc(reg, "gintoki_relay_caught_up_timestamp_seconds", "Time up to which every transaction committed in the database has been read and handed to the broker client (0: not yet); time() minus it is the relay's lag.", func() float64 {
		t := st.CaughtUp()
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	})
	gaugeFunc(reg, "gintoki_relay_last_commit_timestamp_seconds", "Commit time of the last transaction read with row changes to publish (0: none yet).", func() float64 {
		t := st.LastCommit()
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	})
}

// serveRelayMetrics serves /metrics, /healthz (the process runs) and
// /readyz (the change stream is open) on addr until stop is called.
func serveRelayMetrics(addr string, g prometheus.Gatherer, st *relay.Stats, log *slog.Logger) (stop func(), bound string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !st.Streaming() {
			http.Error(w, "change stream not open", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("relay metrics endpoint stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, ln.Addr().String(), nil
}
