package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/internal/flagenv"
	"github.com/gintoki/gintoki/internal/kafkatest"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/kafka"
)

// secureBroker starts a broker that requires TLS (the test's own
// authority) and SASL as user/pass, with the change topics created.
func secureBroker(tb testing.TB, certs *kafkatest.Certs, user, pass string) string {
	tb.Helper()
	c := kafkatest.SecureCluster(tb, certs, user, pass)
	addr := c.ListenAddrs()[0]
	sec, err := kafka.SecurityConfig{CAFile: certs.CAFile, SASLMechanism: kafka.SASLPlain, SASLUser: user, SASLPassword: pass}.ClientOptions()
	if err != nil {
		tb.Fatal(err)
	}
	cl, err := kgo.NewClient(append(sec, kgo.SeedBrokers(addr))...)
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 3, 1, nil, testTopics...); err != nil {
		tb.Fatal(err)
	}
	return addr
}

// The relay and a node talk to a broker that requires TLS and SCRAM, with
// the password from a file for one and from the environment for the other;
// a change committed in MariaDB reaches the node's cache.
func TestPipelineOverTLSAndSASL(t *testing.T) {
	certs := kafkatest.NewCerts(t)
	const user, pass = "gintoki", "pipeline-secret"
	broker := secureBroker(t, certs, user, pass)
	passFile := filepath.Join(t.TempDir(), "kafka-password")
	if err := os.WriteFile(passFile, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := mariadbtest.Start(t)
	seedSmall(t, db, 10)
	startRelay(t, db, broker, func(c *relayConfig) {
		c.Kafka = kafkaFlags{CAFile: certs.CAFile, SASLMechanism: kafka.SASLScramSHA512, SASLUser: user, SASLPasswordFile: passFile}
	})
	sec, err := kafka.SecurityConfig{CAFile: certs.CAFile, SASLMechanism: kafka.SASLPlain, SASLUser: user, SASLPassword: pass}.ClientOptions()
	if err != nil {
		t.Fatal(err)
	}
	waitCheckpoint(t, broker, sec...)
	n := startNode(t, db.DSN("inventory"), broker, func(c *serveConfig) {
		c.Kafka = kafkaFlags{ServerName: kafkatest.ServerName, CAFile: certs.CAFile, SASLMechanism: kafka.SASLScramSHA256, SASLUser: user}
		c.Kafka.resolve(func(k string) (string, bool) {
			return map[string]string{envKafkaPassword: pass}[k], k == envKafkaPassword
		})
	})
	if code, _ := n.get(t, "/v1/products/3/inventory", nil); code != 200 { // cached now
		t.Fatalf("GET product 3: %d", code)
	}
	db.Exec(t, "UPDATE warehouse_stock_item SET qty_salable = qty_salable + 1000 WHERE product_id = 3")
	want, _ := inventoryFromSQL(t, db, 3)
	pollUntil(t, 20*time.Second, func() (bool, string) {
		_, body := n.get(t, "/v1/products/3/inventory", nil)
		return strings.TrimSpace(body) == want, body + " want " + want
	})
}

// A wrong password or an authority that did not sign the broker's
// certificate stops serve and relay at startup with an error that says
// what is wrong and which flags set it.
func TestKafkaMisconfigurationStopsStartup(t *testing.T) {
	certs := kafkatest.NewCerts(t)
	const user, pass = "gintoki", "right-password"
	broker := secureBroker(t, certs, user, pass)
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == envKafkaPassword }
	}
	tests := []struct {
		name    string
		flags   kafkaFlags
		env     string
		wantMsg []string
	}{
		{"wrong password", kafkaFlags{CAFile: certs.CAFile, SASLMechanism: kafka.SASLScramSHA256, SASLUser: user}, "wrong-password",
			[]string{"SASL authentication failed", `as user "gintoki"`, "--kafka-sasl-user"}},
		{"wrong CA", kafkaFlags{CAFile: kafkatest.OtherCA(t), SASLMechanism: kafka.SASLPlain, SASLUser: user}, pass,
			[]string{"TLS handshake failed", "not signed by a trusted authority", "--kafka-tls-ca-file"}},
	}
	db := mariadbtest.Start(t)
	seedSmall(t, db, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.flags
			k.resolve(env(tt.env))
			if err := k.validate(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			scfg := serveConfig{
				HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", DBDSN: db.DSN("inventory"), Database: "inventory",
				StockTable: "warehouse_stock_item", WarehouseTable: "warehouse", CacheBytes: 16 << 20,
				MaxBatch: 1000, LoadTimeout: 2 * time.Second, Brokers: broker, Kafka: k, TopicPrefix: "gintoki",
				MaxStaleness: 5 * time.Second, ReplayWindow: 10 * time.Second, ShutdownTimeout: time.Second,
			}
			rcfg := relayConfig{
				DBAddr: db.Addr(), DBUser: "root", Database: "inventory", Tables: "warehouse,warehouse_stock_item",
				ServerID: 1001, Brokers: broker, Kafka: k, TopicPrefix: "gintoki", TopicPartitions: 3,
				CheckpointTopic: kafka.CheckpointDefaultTopic, LockTimeout: binlog.DefaultLockSessionTimeout,
			}
			for name, err := range map[string]error{
				"serve": serve(ctx, scfg, log, nil),
				"relay": relayUntilDone(ctx, rcfg, log, nil),
			} {
				if err == nil || ctx.Err() != nil {
					t.Fatalf("%s returned %v (context: %v), want a startup error", name, err, ctx.Err())
				}
				for _, w := range tt.wantMsg {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %v\nwant it to say %q", name, err, w)
					}
				}
			}
		})
	}
}

// The password never comes from a flag: only from a file or the
// environment, and a mechanism without one is refused before starting.
func TestKafkaFlags(t *testing.T) {
	var cfg relayConfig
	env := flagEnv(flagenv.Map(nil))
	fs := newFlagSet("relay", "", env, io.Discard)
	cfg.flags(fs)
	if fs.Lookup("kafka-sasl-password") != nil {
		t.Fatal("there is a --kafka-sasl-password flag: passwords must not be given on the command line")
	}
	if err := env.Parse(fs, []string{"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-user", "u"}); err != nil {
		t.Fatal(err)
	}
	cfg.Kafka.resolve(func(string) (string, bool) { return "", false })
	if err := cfg.Kafka.validate(); err == nil || !strings.Contains(err.Error(), envKafkaPassword) {
		t.Fatalf("validate without a password = %v, want an error naming $%s", err, envKafkaPassword)
	}
	cfg.Kafka.resolve(func(k string) (string, bool) { return "p", k == envKafkaPassword })
	if err := cfg.Kafka.validate(); err != nil {
		t.Fatalf("validate with the password in the environment: %v", err)
	}
	if sec := cfg.Kafka.security(); sec.SASLPassword != "p" || sec.SASLMechanism != "SCRAM-SHA-512" || sec.SASLUser != "u" {
		t.Fatalf("security() = %+v", sec)
	}
	bad := kafkaFlags{SASLMechanism: "GSSAPI", SASLUser: "u", saslPassword: "p"}
	if err := bad.validate(); err == nil || !strings.Contains(err.Error(), "unknown mechanism") {
		t.Fatalf("validate GSSAPI = %v", err)
	}
}
