package kafka

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/internal/kafkatest"
	"github.com/gintoki/gintoki/relay"
)

const (
	securityTestUser = "gintoki"
	securityTestPass = "s3cret-pass"
)

// securityTestPasswordFile writes pass to a file, with the trailing
// newline an editor or a Kubernetes secret often leaves.
func securityTestPasswordFile(tb testing.TB, pass string) string {
	tb.Helper()
	f := filepath.Join(tb.TempDir(), "password")
	if err := os.WriteFile(f, []byte(pass+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return f
}

// Every SASL mechanism, over TLS with the test's own authority, carries
// a message from the publisher to the consumer; so does mutual TLS.
func TestSecurityPublishAndConsume(t *testing.T) {
	certs := kafkatest.NewCerts(t)
	cluster := kafkatest.SecureCluster(t, certs, securityTestUser, securityTestPass)
	brokers := cluster.ListenAddrs()
	passFile := securityTestPasswordFile(t, securityTestPass)
	tlsOnly := SecurityConfig{CAFile: certs.CAFile}
	tests := []struct {
		name string
		sec  SecurityConfig
	}{
		{"PLAIN, password from a file", SecurityConfig{CAFile: certs.CAFile, SASLMechanism: SASLPlain, SASLUser: securityTestUser, SASLPasswordFile: passFile}},
		{"SCRAM-SHA-256", SecurityConfig{CAFile: certs.CAFile, SASLMechanism: SASLScramSHA256, SASLUser: securityTestUser, SASLPassword: securityTestPass}},
		{"SCRAM-SHA-512, mutual TLS, server name", SecurityConfig{
			CAFile: certs.CAFile, CertFile: certs.ClientCertFile, KeyFile: certs.ClientKeyFile, ServerName: kafkatest.ServerName,
			SASLMechanism: "scram-sha-512", SASLUser: securityTestUser, SASLPassword: securityTestPass,
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := Check(ctx, brokers, tt.sec, 10*time.Second); err != nil {
				t.Fatalf("Check: %v", err)
			}
			topic := "secure.inventory.t" + string(rune('a'+i))
			pub, err := NewPublisher(PublisherConfig{Brokers: brokers, Partitions: 1, Security: tt.sec})
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			if err := publisherTestPublish(t, pub, relay.BrokerRecord{Topic: topic, Key: []byte("k"), Value: []byte("v")}); err != nil {
				t.Fatalf("publish: %v", err)
			}
			got := make(chan app.StreamRecord, 1)
			cons, err := NewConsumer(ConsumerConfig{Brokers: brokers, Topics: []string{topic}, ReplayWindow: time.Hour, Security: tt.sec},
				func(ms []app.StreamRecord) {
					for _, m := range ms {
						select {
						case got <- m:
						default:
						}
					}
				})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cons.Run(ctx) }()
			select {
			case m := <-got:
				if string(m.Value) != "v" {
					t.Errorf("consumed %q, want %q", m.Value, "v")
				}
			case <-ctx.Done():
				t.Fatal("nothing consumed")
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("consumer: %v", err)
			}
		})
	}
	// TLS alone is not enough: the broker wants SASL.
	ctx := context.Background()
	if err := Check(ctx, brokers, tlsOnly, 10*time.Second); !errors.Is(err, ErrAuthentication) {
		t.Errorf("Check without SASL = %v, want ErrAuthentication", err)
	}
}

// A wrong password, a CA that did not sign the broker's certificate, a
// server name it does not carry, or plaintext towards a TLS broker fail
// with an error that says which, and callers can tell them apart from an
// unreachable broker.
func TestSecurityCheckErrors(t *testing.T) {
	certs := kafkatest.NewCerts(t)
	cluster := kafkatest.SecureCluster(t, certs, securityTestUser, securityTestPass)
	brokers := cluster.ListenAddrs()
	good := SecurityConfig{CAFile: certs.CAFile, SASLMechanism: SASLScramSHA256, SASLUser: securityTestUser, SASLPassword: securityTestPass}
	with := func(f func(*SecurityConfig)) SecurityConfig { c := good; f(&c); return c }
	tests := []struct {
		name    string
		sec     SecurityConfig
		wantIs  error
		wantMsg string
	}{
		{"wrong password", with(func(c *SecurityConfig) { c.SASLPassword = "nope" }), ErrAuthentication, "check the user name and the password"},
		{"wrong user, PLAIN", with(func(c *SecurityConfig) { c.SASLUser, c.SASLMechanism = "mallory", SASLPlain }), ErrAuthentication, `as user "mallory"`},
		{"wrong CA", with(func(c *SecurityConfig) { c.CAFile = kafkatest.OtherCA(t) }), ErrTLS, "not signed by a trusted authority"},
		{"wrong server name", with(func(c *SecurityConfig) { c.ServerName = "kafka.example.com" }), ErrTLS, "server name"},
		{"plaintext", SecurityConfig{SASLMechanism: SASLPlain, SASLUser: securityTestUser, SASLPassword: securityTestPass}, ErrTLS, "TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(context.Background(), brokers, tt.sec, 10*time.Second)
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Check = %v\nwant an error wrapping %v and saying %q", err, tt.wantIs, tt.wantMsg)
			}
			t.Logf("%s: %v", tt.name, err)
		})
	}

	// TLS towards a plaintext broker.
	plainCluster := kafkatest.SecureCluster(t, nil, "", "")
	err := Check(context.Background(), plainCluster.ListenAddrs(), SecurityConfig{CAFile: certs.CAFile}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("TLS towards a plaintext broker: %v, want an error that mentions TLS", err)
	}
}

// Settings that cannot work are refused before any connection.
func TestSecurityConfigErrors(t *testing.T) {
	certs := kafkatest.NewCerts(t)
	tests := []struct {
		name    string
		sec     SecurityConfig
		wantMsg string
	}{
		{"unknown mechanism", SecurityConfig{SASLMechanism: "GSSAPI", SASLUser: "u", SASLPassword: "p"}, "unknown mechanism"},
		{"no mechanism", SecurityConfig{SASLUser: "u", SASLPassword: "p"}, "no mechanism"},
		{"no user", SecurityConfig{SASLMechanism: SASLPlain, SASLPassword: "p"}, "user name is required"},
		{"no password", SecurityConfig{SASLMechanism: SASLPlain, SASLUser: "u"}, "password is required"},
		{"missing password file", SecurityConfig{SASLMechanism: SASLPlain, SASLUser: "u", SASLPasswordFile: "/nonexistent/pw"}, "password file"},
		{"empty password file", SecurityConfig{SASLMechanism: SASLPlain, SASLUser: "u", SASLPasswordFile: securityTestPasswordFile(t, "")}, "is empty"},
		{"missing CA file", SecurityConfig{CAFile: "/nonexistent/ca.pem"}, "CA file"},
		{"CA file without a certificate", SecurityConfig{CAFile: securityTestPasswordFile(t, "not PEM")}, "no PEM certificate"},
		{"certificate without key", SecurityConfig{CertFile: certs.ClientCertFile}, "both"},
		{"key that does not match", SecurityConfig{CertFile: certs.ClientCertFile, KeyFile: certs.ServerKeyFile}, "client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.sec.ClientOptions()
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("ClientOptions = %v, want an error saying %q", err, tt.wantMsg)
			}
		})
	}
	if s := (SecurityConfig{CAFile: "ca.pem", SASLMechanism: SASLPlain, SASLUser: "u", SASLPassword: "hunter2"}).String(); strings.Contains(s, "hunter2") {
		t.Errorf("String() shows the password: %s", s)
	}
}

// A broker that closes connections for a moment, as one restarting does,
// is not taken for one refusing the client's settings.
func TestSecurityCheckRidesOutARestart(t *testing.T) {
	cluster := kafkatest.SecureCluster(t, nil, "", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The first connections are closed after the client's first request;
	// later ones are passed to the broker.
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if n < 2 {
				buf := make([]byte, 64)
				_, _ = c.Read(buf)
				c.Close()
				continue
			}
			b, err := net.Dial("tcp", cluster.ListenAddrs()[0])
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(b, c); b.Close() }()
			go func() { _, _ = io.Copy(c, b); c.Close() }()
		}
	}()
	if err := Check(context.Background(), []string{ln.Addr().String()}, SecurityConfig{}, 20*time.Second); err != nil {
		t.Fatalf("Check through a broker that closed its first connections: %v", err)
	}
}
