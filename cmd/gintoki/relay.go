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
	TopicPrefix     string
	TopicPartitions int
	CheckpointFile  string
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
	fs.StringVar(&c.TopicPrefix, "topic-prefix", debezium.EncoderDefaultPrefix, "topic prefix: topics are <prefix>.<database>.<table> (Debezium's topic.prefix)")
	fs.IntVar(&c.TopicPartitions, "topic-partitions", kafka.PublisherDefaultPartitions, "partitions of the topics the relay creates")
	fs.StringVar(&c.CheckpointFile, "checkpoint-file", ".local/relay/checkpoint.json", "file holding the binlog position to resume from; without it the relay starts at the current end of the binlog")
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
	if strings.TrimSpace(c.CheckpointFile) == "" {
		errs = append(errs, errors.New("--checkpoint-file is required"))
	}
	return errors.Join(errs...)
}

func runRelay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg relayConfig
	fs := newFlagSet("relay", "Tail the MySQL/MariaDB binlog and publish Debezium-style change events to Kafka, at least once.", stderr)
	cfg.flags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	log, err := cfg.Log.logger(stdout)
	if err != nil {
		return err
	}
	return relayUntilDone(ctx, cfg, log) // main reports an error
}

// relayUntilDone builds the relay and runs it until ctx ends (then it
// stops reading, waits for the broker's acknowledgements, saves the
// position and returns nil) or it fails.
func relayUntilDone(ctx context.Context, cfg relayConfig, log *slog.Logger) error {
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
		Logger:     log,
	})
	if err != nil {
		return err
	}
	defer pub.Close() // after Run, which waits for what is in flight
	r, err := relay.New(relay.Config{
		Source:     src,
		Encoder:    debezium.NewEncoder(cfg.TopicPrefix),
		Publisher:  pub,
		Checkpoint: relay.NewFileCheckpoint(cfg.CheckpointFile),
		Logger:     log,
	})
	if err != nil {
		return err
	}
	log.Info("relay configured", "db_addr", cfg.DBAddr, "database", cfg.Database, "tables", relayList(cfg.Tables),
		"brokers", cfg.Brokers, "topic_prefix", cfg.TopicPrefix, "checkpoint_file", cfg.CheckpointFile)
	return r.Run(ctx)
}
