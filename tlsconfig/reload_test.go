package tlsconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/certtest"
)

// serve accepts TLS connections on a fresh listener with cfg, completing
// each handshake and writing "ok"; it returns the address.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err == nil {
					_, _ = io.WriteString(c, "ok")
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dial handshakes with addr trusting roots, presenting client if not nil,
// and returns the server's leaf certificate, or the error of the exchange.
func dial(addr string, roots *x509.CertPool, client *certtest.Leaf) (*x509.Certificate, error) {
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost"}
	if client != nil {
		pair, err := tls.X509KeyPair(client.CertPEM, client.KeyPEM)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	// With TLS 1.3 the server checks the client's certificate after the
	// client's side of the handshake is done: a rejection shows on read.
	b, err := io.ReadAll(c)
	if err != nil {
		return nil, err
	}
	if string(b) != "ok" {
		return nil, io.ErrUnexpectedEOF
	}
	return c.ConnectionState().PeerCertificates[0], nil
}

func TestServesAndReloadsCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t, "test CA")
	first := ca.Issue(t, "first")
	certFile, keyFile := first.Write(t, dir)
	r, err := New(Files{CertFile: certFile, KeyFile: keyFile}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r.ServerConfig())
	got, err := dial(addr, ca.Pool(), nil)
	if err != nil || got.Subject.CommonName != "first" {
		t.Fatalf("first handshake: %v, %v", got, err)
	}
	if !r.NotAfter().Equal(first.Cert.NotAfter) {
		t.Errorf("NotAfter = %v, want %v", r.NotAfter(), first.Cert.NotAfter)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx, 20*time.Millisecond)

	// A rotation half done (a new certificate, the old key) is refused and
	// the old certificate keeps serving; once the key follows, the new
	// certificate serves new connections without a restart.
	second := ca.Issue(t, "second")
	certtest.WriteFile(t, certFile, second.CertPEM)
	if changed, err := r.Reload(); changed || err == nil || !strings.Contains(err.Error(), "private key does not match") {
		t.Fatalf("reload with a mismatched key: changed %v, err %v", changed, err)
	}
	if got, err := dial(addr, ca.Pool(), nil); err != nil || got.Subject.CommonName != "first" {
		t.Fatalf("during the rotation: %v, %v", got, err)
	}
	certtest.WriteFile(t, keyFile, second.KeyPEM)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := dial(addr, ca.Pool(), nil)
		if err == nil && got.Subject.CommonName == "second" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rotated certificate was not served within 10 s: %v, %v", got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClientCertificates(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := certtest.NewCA(t, "server CA"), certtest.NewCA(t, "client CA"), certtest.NewCA(t, "other CA")
	certFile, keyFile := serverCA.Issue(t, "server").Write(t, dir)
	caFile := filepath.Join(dir, "client-ca.pem")
	certtest.WriteFile(t, caFile, clientCA.PEM)
	r, err := New(Files{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r.ServerConfig())
	good, stranger := clientCA.Issue(t, "client"), otherCA.Issue(t, "stranger")

	if _, err := dial(addr, serverCA.Pool(), &good); err != nil {
		t.Fatalf("client with a certificate of the client CA: %v", err)
	}
	if _, err := dial(addr, serverCA.Pool(), nil); err == nil {
		t.Fatal("client without a certificate was accepted")
	}
	if _, err := dial(addr, serverCA.Pool(), &stranger); err == nil {
		t.Fatal("client with a certificate of another CA was accepted")
	}

	// Rotating the client CA bundle applies to new connections.
	certtest.WriteFile(t, caFile, otherCA.PEM)
	if changed, err := r.Reload(); !changed || err != nil {
		t.Fatalf("reload of the CA file: changed %v, err %v", changed, err)
	}
	if _, err := dial(addr, serverCA.Pool(), &stranger); err != nil {
		t.Fatalf("client of the new CA after the reload: %v", err)
	}
	if _, err := dial(addr, serverCA.Pool(), &good); err == nil {
		t.Fatal("client of the old CA accepted after the reload")
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t, "CA")
	certFile, keyFile := ca.Issue(t, "a").Write(t, dir)
	notPEM := filepath.Join(dir, "junk")
	certtest.WriteFile(t, notPEM, []byte("not a certificate"))
	for name, files := range map[string]Files{
		"no key":         {CertFile: certFile},
		"missing file":   {CertFile: certFile, KeyFile: filepath.Join(dir, "absent")},
		"junk cert":      {CertFile: notPEM, KeyFile: keyFile},
		"junk client CA": {CertFile: certFile, KeyFile: keyFile, ClientCAFile: notPEM},
	} {
		if _, err := New(files, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
