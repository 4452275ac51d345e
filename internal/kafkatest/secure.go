package kafkatest

import (
	"crypto/tls"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gintoki/gintoki/internal/certtest"
)

// ServerName is a DNS name the brokers' test certificates carry besides
// 127.0.0.1 and localhost.
const ServerName = "broker.gintoki.test"

// Certs are a test certificate authority and the broker and client
// certificates it signed, generated for one test and written as PEM files
// in a temporary directory.
type Certs struct {
	CAFile                        string // the authority's certificate
	ServerCertFile, ServerKeyFile string // the broker's: 127.0.0.1, localhost, ServerName
	ClientCertFile, ClientKeyFile string // a client's, for mutual TLS
	// Server is the broker's TLS configuration: its certificate, and
	// client certificates verified against the authority when given.
	Server *tls.Config
}

// NewCerts generates a fresh authority and certificates (ECDSA P-256),
// with internal/certtest.
func NewCerts(tb testing.TB) *Certs {
	tb.Helper()
	dir := tb.TempDir()
	ca := certtest.NewCA(tb, "gintoki test CA")
	c := &Certs{CAFile: filepath.Join(dir, "ca.pem")}
	certtest.WriteFile(tb, c.CAFile, ca.PEM)
	server := ca.Issue(tb, ServerName, ServerName)
	c.ServerCertFile, c.ServerKeyFile = writeLeaf(tb, dir, "server", server)
	c.ClientCertFile, c.ClientKeyFile = writeLeaf(tb, dir, "client", ca.Issue(tb, "gintoki test client"))
	cert, err := tls.X509KeyPair(server.CertPEM, server.KeyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	c.Server = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: ca.Pool(), ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	return c
}

// writeLeaf writes l as <name>.pem and <name>-key.pem in dir.
func writeLeaf(tb testing.TB, dir, name string, l certtest.Leaf) (certFile, keyFile string) {
	tb.Helper()
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	certtest.WriteFile(tb, certFile, l.CertPEM)
	certtest.WriteFile(tb, keyFile, l.KeyPEM)
	return certFile, keyFile
}

// OtherCA writes the certificate of an unrelated authority and returns
// its file: a client trusting only it must refuse the broker.
func OtherCA(tb testing.TB) string {
	tb.Helper()
	f := filepath.Join(tb.TempDir(), "other-ca.pem")
	certtest.WriteFile(tb, f, certtest.NewCA(tb, "some other CA").PEM)
	return f
}

// SecureCluster starts an in-process broker (kfake) on a free port of
// 127.0.0.1 that requires TLS with certs' server certificate (nil: no
// TLS) and, if user is not empty, SASL as user/pass with any of PLAIN,
// SCRAM-SHA-256 and SCRAM-SHA-512. It is closed when the test ends.
func SecureCluster(tb testing.TB, certs *Certs, user, pass string, opts ...kfake.Opt) *kfake.Cluster {
	tb.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}, opts...)
	if certs != nil {
		opts = append(opts, kfake.TLS(certs.Server))
	}
	if user != "" {
		opts = append(opts, kfake.EnableSASL())
		for _, m := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
			opts = append(opts, kfake.Superuser(m, user, pass))
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}
