package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/internal/kafkatest"
	"github.com/gintoki/gintoki/internal/proctest"
	"github.com/gintoki/gintoki/kafka"
)

func noEnv(string) (string, bool) { return "", false }

// startBroker runs the command in-process on a port of its choosing
// (--addr 127.0.0.1:0, after args) and waits until it says where it
// listens. The returned function stops it (as SIGTERM would) and returns
// what it logged.
func startBroker(tb testing.TB, args ...string) (addr string, stop func() string) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var logs proctest.Buffer
	done := make(chan error, 1)
	args = append(args, "--addr", "127.0.0.1:0")
	go func() { done <- run(ctx, args, noEnv, &logs) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := proctest.DevBroker.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case err := <-done:
			cancel()
			tb.Fatalf("run returned early: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			tb.Fatalf("broker did not say where it listens after 10s:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("run: %v", err)
				}
			case <-time.After(10 * time.Second):
				tb.Fatal("run did not return after its context ended")
			}
		}
		return logs.String()
	}
	tb.Cleanup(func() { stop() })
	return addr, stop
}

func TestRunKeepsRecordsAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--partitions", "3"}
	const topic = "devbroker.inventory.warehouse_stock_item"

	addr, stop := startBroker(t, args...)
	producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	rec := &kgo.Record{Topic: topic, Key: []byte(`{"product_id":1,"warehouse_id":2}`), Value: []byte(`{"op":"c"}`)}
	if err := producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	producer.Close()
	logs := stop()
	if !strings.Contains(logs, "dev broker listening") || !strings.Contains(logs, "addr="+addr) ||
		strings.Count(logs, "\n") != 1 {
		t.Errorf("logs = %q, want one line with the address", logs)
	}

	addr, _ = startBroker(t, args...) // the records are kept; the port is new
	admin := kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr)))
	topics, err := admin.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(topics[topic].Partitions); got != 3 {
		t.Errorf("topic has %d partitions, want 3", got)
	}
	consumer := mustClient(t, kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for {
		fetches := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("record not consumed after restart: %v", err)
		}
		for _, fe := range fetches.Errors() {
			t.Logf("fetch error (retrying): %v", fe.Err)
		}
		if recs := fetches.Records(); len(recs) > 0 {
			got := recs[0]
			if string(got.Key) != string(rec.Key) || string(got.Value) != string(rec.Value) ||
				got.Partition != rec.Partition || got.Offset != rec.Offset {
				t.Fatalf("consumed %s/%d@%d %s=%s, want %s/%d@%d %s=%s", got.Topic, got.Partition, got.Offset, got.Key, got.Value,
					rec.Topic, rec.Partition, rec.Offset, rec.Key, rec.Value)
			}
			return
		}
	}
}

func mustClient(tb testing.TB, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	c, err := kgo.NewClient(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

func TestParseConfig(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	tests := []struct {
		name    string
		args    []string
		env     func(string) (string, bool)
		want    config
		wantErr string
	}{
		{name: "defaults", env: noEnv, want: config{Addr: "127.0.0.1:9092", DataDir: ".local/broker", Partitions: 6}},
		{name: "flags", args: []string{"--addr", "localhost:0", "--data-dir", "", "--partitions", "1"}, env: noEnv,
			want: config{Addr: "localhost:0", DataDir: "", Partitions: 1}},
		{name: "environment", env: env("GINTOKI_DEVBROKER_ADDR", "127.0.0.1:19092", "GINTOKI_DEVBROKER_DATA_DIR", "/tmp/b",
			"GINTOKI_DEVBROKER_PARTITIONS", "2"), want: config{Addr: "127.0.0.1:19092", DataDir: "/tmp/b", Partitions: 2}},
		{name: "flags win over environment", args: []string{"--partitions", "4"}, env: env("GINTOKI_DEVBROKER_PARTITIONS", "2"),
			want: config{Addr: "127.0.0.1:9092", DataDir: ".local/broker", Partitions: 4}},
		{name: "bad environment", env: env("GINTOKI_DEVBROKER_PARTITIONS", "many"), wantErr: "GINTOKI_DEVBROKER_PARTITIONS"},
		{name: "zero partitions", args: []string{"--partitions", "0"}, env: noEnv, wantErr: "at least 1"},
		{name: "other host", args: []string{"--addr", "0.0.0.0:9092"}, env: noEnv, wantErr: "127.0.0.1 only"},
		{name: "no port", args: []string{"--addr", "127.0.0.1"}, env: noEnv, wantErr: "--addr"},
		{name: "bad port", args: []string{"--addr", "127.0.0.1:99999"}, env: noEnv, wantErr: "bad port"},
		{name: "arguments", args: []string{"extra"}, env: noEnv, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, tt.env, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseConfig = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"--help"}, noEnv, &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "GINTOKI_DEVBROKER_DATA_DIR") {
		t.Fatalf("run --help = %v\n%s", err, out.String())
	}
}

func TestRunPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = run(context.Background(), []string{"--addr", l.Addr().String(), "--data-dir", ""}, noEnv, io.Discard)
	if err == nil {
		t.Fatal("run on a busy port returned no error")
	}
}

// With TLS, a client CA and a SASL user, the broker accepts a client that
// presents a certificate and the password, by every mechanism, and
// refuses one without the certificate or with another password.
func TestRunWithTLSAndSASL(t *testing.T) {
	certs := kafkatest.NewCerts(t)
	passFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(passFile, []byte("dev-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, stop := startBroker(t, "--data-dir", "", "--tls-cert-file", certs.ServerCertFile, "--tls-key-file", certs.ServerKeyFile,
		"--tls-client-ca-file", certs.CAFile, "--sasl-user", "dev", "--sasl-password-file", passFile)
	good := kafka.SecurityConfig{CAFile: certs.CAFile, CertFile: certs.ClientCertFile, KeyFile: certs.ClientKeyFile, SASLUser: "dev", SASLPassword: "dev-secret"}
	ctx := context.Background()
	for _, m := range []string{kafka.SASLPlain, kafka.SASLScramSHA256, kafka.SASLScramSHA512} {
		sec := good
		sec.SASLMechanism = m
		if err := kafka.Check(ctx, []string{addr}, sec, 10*time.Second); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	noCert := good
	noCert.SASLMechanism, noCert.CertFile, noCert.KeyFile = kafka.SASLScramSHA256, "", ""
	if err := kafka.Check(ctx, []string{addr}, noCert, 10*time.Second); !errors.Is(err, kafka.ErrTLS) {
		t.Errorf("without a client certificate: %v, want ErrTLS", err)
	}
	wrong := good
	wrong.SASLMechanism, wrong.SASLPassword = kafka.SASLScramSHA512, "guess"
	if err := kafka.Check(ctx, []string{addr}, wrong, 10*time.Second); !errors.Is(err, kafka.ErrAuthentication) {
		t.Errorf("with a wrong password: %v, want ErrAuthentication", err)
	}
	if logs := stop(); !strings.Contains(logs, "tls=true") || !strings.Contains(logs, "sasl_user=dev") {
		t.Errorf("logs = %q, want tls=true and sasl_user=dev", logs)
	}
}

func TestParseConfigSecurity(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) { return "from-env", k == envSASLPassword }
	cfg, err := parseConfig([]string{"--sasl-user", "u"}, env, io.Discard)
	if err != nil || cfg.SASLPassword != "from-env" {
		t.Errorf("password from the environment: %q, %v", cfg.SASLPassword, err)
	}
	cfg, err = parseConfig([]string{"--sasl-user", "u", "--sasl-password-file", pwFile}, env, io.Discard)
	if err != nil || cfg.SASLPassword != "from-file" {
		t.Errorf("password from the file: %q, %v", cfg.SASLPassword, err)
	}
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"user without password", []string{"--sasl-user", "u"}, envSASLPassword},
		{"password without user", []string{"--sasl-password-file", pwFile}, "needs --sasl-user"},
		{"certificate without key", []string{"--tls-cert-file", "c.pem"}, "go together"},
		{"client CA without certificate", []string{"--tls-client-ca-file", "ca.pem"}, "needs --tls-cert-file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseConfig(tt.args, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseConfig(%q) = %v, want an error saying %q", tt.args, err, tt.wantErr)
			}
		})
	}
}
