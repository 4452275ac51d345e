package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/promexport"
	"github.com/gintoki/gintoki/relay"
)

// relayConfig is the configuration of gintoki relay.
type relayConfig struct {
	DBAddr          string
	DBUser          string
	DBPassword      string
	DBPasswordFile  string
	Database        string
	Tables          string
	ServerID        uint
	Brokers         string
	Kafka           kafkaFlags
	TopicPrefix     string
	TopicPartitions int
	CheckpointTopic string
	CheckpointFile  string
	RelayName       string
	LockTimeout     time.Duration
	ResetCheckpoint bool
	MetricsAddr     string
	AdminAddr       string
	Heartbeat       time.Duration
	Log             logConfig
}

func (c *relayConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DBAddr, "db-addr", "127.0.0.1:3307", "MySQL/MariaDB address, host:port")
	fs.StringVar(&c.DBUser, "db-user", "root", "database user; needs REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR on MariaDB)")
	fs.StringVar(&c.DBPassword, "db-password", "", "database password: set it through $GINTOKI_DB_PASSWORD or --db-password-file, not on the command line, which every local user can read")
	fs.StringVar(&c.DBPasswordFile, "db-password-file", "", "file holding the database password (one trailing newline is ignored); it wins over --db-password")
	fs.StringVar(&c.Database, "database", "inventory", "database whose tables are relayed")
	fs.StringVar(&c.Tables, "tables", "warehouse,warehouse_stock_item", "tables to relay, comma-separated")
	fs.UintVar(&c.ServerID, "server-id", 1001, "replica server id the relay registers with; unique among the server's replicas")
	fs.StringVar(&c.Brokers, "brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
	c.Kafka.flags(fs)
	fs.StringVar(&c.TopicPrefix, "topic-prefix", debezium.EncoderDefaultPrefix, "topic prefix: topics are <prefix>.<database>.<table> (Debezium's topic.prefix)")
	fs.IntVar(&c.TopicPartitions, "topic-partitions", kafka.PublisherDefaultPartitions, "partitions of the topics the relay creates")
	fs.StringVar(&c.CheckpointTopic, "checkpoint-topic", kafka.CheckpointDefaultTopic, "compacted topic holding the binlog position to resume from, keyed by --relay-name; created if missing. With no position there, the relay starts at the current end of the binlog")
	fs.StringVar(&c.CheckpointFile, "checkpoint-file", "", "position file written by relays before the position moved to --checkpoint-topic; read once, only while the topic holds no position (upgrades)")
	fs.StringVar(&c.RelayName, "relay-name", "", "identity of the relays of one database: the checkpoint's key and the leader lock's name (gintoki-relay-<name>); default: --topic-prefix")
	fs.DurationVar(&c.LockTimeout, "failover-timeout", binlog.DefaultLockSessionTimeout, "how long the database waits on a silent leader (host or network gone) before it frees the leader lock for a standby; the leader stops publishing after 60% of it without confirming the lock. Whole seconds, at least 2s. A leader that crashes frees the lock at once")
	fs.BoolVar(&c.ResetCheckpoint, "reset-checkpoint", false, "forget the saved position (so that the next start begins at the current end of the binlog) and exit; see the error about a purged binlog")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "HTTP listen address for /metrics, /healthz and /readyz (empty: none)")
	fs.StringVar(&c.AdminAddr, "admin-addr", "", "listen address for /debug/pprof/ (empty: off); keep it private, e.g. 127.0.0.1:6061")
	fs.DurationVar(&c.Heartbeat, "heartbeat-interval", relay.DefaultHeartbeatInterval, "how often to publish a heartbeat to __debezium-heartbeat.<topic-prefix> while the database is idle, so that nodes can tell a quiet database from a stopped relay (0: never)")
	c.Log.flags(fs)
}

// splitCommaList splits a comma-separated flag value (--tables, --brokers)
// into its items, trimmed, dropping blank ones.
func splitCommaList(s string) []string {
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
	if len(splitCommaList(c.Tables)) == 0 {
		errs = append(errs, errors.New("--tables needs at least one table"))
	}
	if len(splitCommaList(c.Brokers)) == 0 {
		errs = append(errs, errors.New("--brokers is required"))
	}
	if c.TopicPartitions < 1 || c.TopicPartitions > math.MaxInt32 {
		errs = append(errs, errors.New("--topic-partitions must be positive"))
	}
	if c.Heartbeat < 0 {
		errs = append(errs, errors.New("--heartbeat-interval must not be negative"))
	}
	if strings.TrimSpace(c.CheckpointTopic) == "" {
		errs = append(errs, errors.New("--checkpoint-topic is required"))
	}
	if c.LockTimeout < 2*time.Second || c.LockTimeout%time.Second != 0 {
		errs = append(errs, errors.New("--failover-timeout must be whole seconds, at least 2s"))
	}
	if n := len(lockName(c.name())); n > 64 {
		errs = append(errs, fmt.Errorf("--relay-name: the lock name %q has %d characters, at most 64", lockName(c.name()), n))
	}
	errs = append(errs, c.Kafka.validate())
	return errors.Join(errs...)
}

// name is the relays' identity: --relay-name, or the topic prefix.
func (c *relayConfig) name() string {
	if c.RelayName != "" {
		return c.RelayName
	}
	return c.TopicPrefix
}

// lockName is the leader lock's name for a relay name.
func lockName(name string) string { return "gintoki-relay-" + name }

// lockTimings derives the leader lock's lease and ping from the failover
// timeout (the lock session's wait_timeout): the leader confirms the lock
// every second and stops publishing after 60% of the timeout without a
// confirmation, well before the server can free the lock for another.
func (c *relayConfig) lockTimings() (lease, ping time.Duration) {
	ping = time.Second
	lease = c.LockTimeout * 6 / 10
	if lease+ping > c.LockTimeout {
		lease = c.LockTimeout - ping
	}
	return lease, ping
}

func runRelay(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	var cfg relayConfig
	env := flagEnv(lookupEnv)
	fs := newFlagSet("relay", "Tail the MySQL/MariaDB binlog and publish Debezium-style change events to Kafka, at least once.", env, stderr)
	cfg.flags(fs)
	if err := env.Parse(fs, args); err != nil {
		return err
	}
	cfg.Kafka.resolve(lookupEnv)
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.DBPasswordFile != "" {
		pw, err := readSecretFile(cfg.DBPasswordFile)
		if err != nil {
			return fmt.Errorf("--db-password-file: %w", err)
		}
		cfg.DBPassword = pw
	}
	log, err := cfg.Log.logger(stdout)
	if err != nil {
		return err
	}
	if cfg.ResetCheckpoint {
		return resetCheckpoint(ctx, cfg, log)
	}
	return relayUntilDone(ctx, cfg, log, nil) // main reports an error
}

// resetCheckpoint forgets the saved position.
func resetCheckpoint(ctx context.Context, cfg relayConfig, log *slog.Logger) error {
	cp, err := kafka.NewCheckpoint(kafka.CheckpointConfig{
		Brokers: splitCommaList(cfg.Brokers), Topic: cfg.CheckpointTopic, Key: cfg.name(), Security: cfg.Kafka.security(), Logger: log,
	})
	if err != nil {
		return err
	}
	defer cp.Close()
	if err := cp.Reset(ctx); err != nil {
		return err
	}
	log.Warn("checkpoint reset: the next relay to start begins at the current end of the binlog",
		"topic", cfg.CheckpointTopic, "key", cfg.name())
	return nil
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
		Tables:   splitCommaList(cfg.Tables),
		ServerID: uint32(cfg.ServerID),
		Logger:   log,
	})
	if err != nil {
		return err
	}
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{
		Brokers:    splitCommaList(cfg.Brokers),
		Partitions: int32(cfg.TopicPartitions),
		Security:   cfg.Kafka.security(),
		Logger:     log,
	})
	if err != nil {
		return err
	}
	defer pub.Close() // after Run, which waits for what is in flight
	ackDelay := promexport.NewRelayAckDelay()
	heartbeat := cfg.Heartbeat
	if heartbeat == 0 {
		heartbeat = -1 // off
	}
	var cp relay.Checkpoint
	kcp, err := kafka.NewCheckpoint(kafka.CheckpointConfig{
		Brokers: splitCommaList(cfg.Brokers), Topic: cfg.CheckpointTopic, Key: cfg.name(), Security: cfg.Kafka.security(), Logger: log,
	})
	if err != nil {
		return err
	}
	defer kcp.Close()
	cp = kcp
	if cfg.CheckpointFile != "" {
		cp = &importingCheckpoint{Checkpoint: kcp, file: relay.NewFileCheckpoint(cfg.CheckpointFile), log: log}
	}
	lease, ping := cfg.lockTimings()
	lock, err := binlog.NewLock(binlog.LockConfig{
		Addr: cfg.DBAddr, User: cfg.DBUser, Password: cfg.DBPassword, Name: lockName(cfg.name()),
		Ping: ping, Lease: lease, SessionTimeout: cfg.LockTimeout, Logger: log,
	})
	if err != nil {
		return err
	}
	defer lock.Close()
	r, err := relay.New(relay.Config{
		Source:            src,
		Encoder:           debezium.NewEncoder(cfg.TopicPrefix),
		Publisher:         pub,
		Checkpoint:        cp,
		Lock:              lock,
		Logger:            log,
		HeartbeatInterval: heartbeat,
		AckDelay:          ackDelay.ObserveDuration,
	})
	if err != nil {
		return err
	}
	if err := cfg.Kafka.checkKafka(ctx, splitCommaList(cfg.Brokers), log); err != nil {
		return err
	}
	log.Info("relay configured", "db_addr", cfg.DBAddr, "database", cfg.Database, "tables", splitCommaList(cfg.Tables),
		"brokers", cfg.Brokers, "topic_prefix", cfg.TopicPrefix, "relay_name", cfg.name(),
		"checkpoint_topic", cfg.CheckpointTopic, "leader_lock", lockName(cfg.name()), "failover_timeout", cfg.LockTimeout)
	reg := prometheus.NewRegistry()
	reg.MustRegister(promexport.RelayCollectors(r.Stats(), ackDelay)...)
	endpoint, err := listenRelayEndpoint(cfg.MetricsAddr, reg, r.Stats(), lock, log)
	if err != nil {
		return err
	}
	admin, err := listenAdmin(cfg.AdminAddr, nil, log) // no cache: pprof only
	if err != nil {
		endpoint.close()
		return err
	}
	if a := endpoint.addr(); a != "" {
		log.Info("relay metrics", "addr", a)
		if listening != nil {
			listening(a)
		}
	}
	if a := admin.addr(); a != "" {
		log.Info("relay admin (pprof)", "addr", a)
	}
	return runServing(ctx, r.Run, endpoint.serve, admin.serve)
}

// runServing runs run under an errgroup together with the servers that
// watch it. The servers stop once run has returned, not before, so that
// the relay can be watched while it stops (waits for the broker and saves
// its position). A server that fails ends run's context: run then stops
// as on a signal, and the server's error is returned.
func runServing(ctx context.Context, run func(context.Context) error, servers ...func(context.Context) error) error {
	serversCtx, stopServers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServers()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer stopServers()
		return run(gctx)
	})
	for _, serve := range servers {
		g.Go(func() error { return serve(serversCtx) })
	}
	return g.Wait()
}
