package kafkatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
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

// NewCerts generates a fresh authority and certificates (ECDSA P-256,
// valid for an hour).
func NewCerts(tb testing.TB) *Certs {
	tb.Helper()
	dir := tb.TempDir()
	caKey, caCert, caDER := newCA(tb, "gintoki test CA")
	c := &Certs{CAFile: filepath.Join(dir, "ca.pem")}
	writePEM(tb, c.CAFile, "CERTIFICATE", caDER)
	serverPair := issue(tb, caKey, caCert, dir, "server", &x509.Certificate{
		Subject:     pkix.Name{CommonName: ServerName},
		DNSNames:    []string{ServerName, "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	c.ServerCertFile, c.ServerKeyFile = serverPair[0], serverPair[1]
	clientPair := issue(tb, caKey, caCert, dir, "client", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "gintoki test client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	c.ClientCertFile, c.ClientKeyFile = clientPair[0], clientPair[1]
	cert, err := tls.LoadX509KeyPair(c.ServerCertFile, c.ServerKeyFile)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	c.Server = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	return c
}

// OtherCA writes the certificate of an unrelated authority and returns
// its file: a client trusting only it must refuse the broker.
func OtherCA(tb testing.TB) string {
	tb.Helper()
	_, _, der := newCA(tb, "some other CA")
	f := filepath.Join(tb.TempDir(), "other-ca.pem")
	writePEM(tb, f, "CERTIFICATE", der)
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

func newCA(tb testing.TB, name string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, cert, der
}

// issue signs tmpl with the authority and writes <name>.pem and
// <name>-key.pem in dir, returning their paths.
func issue(tb testing.TB, caKey *ecdsa.PrivateKey, ca *x509.Certificate, dir, name string, tmpl *x509.Certificate) [2]string {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl.SerialNumber = serial(tb)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	files := [2]string{filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")}
	writePEM(tb, files[0], "CERTIFICATE", der)
	writePEM(tb, files[1], "EC PRIVATE KEY", keyDER)
	return files
}

func serial(tb testing.TB) *big.Int {
	tb.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func writePEM(tb testing.TB, file, kind string, der []byte) {
	tb.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
}
