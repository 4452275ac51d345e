package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/certtest"
	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// TestTLSListeners runs serve with TLS and client certificates on both
// listeners, pprof on an admin address, and the database password read
// from a file; then rotates the server certificate under it.
func TestTLSListeners(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 10)
	const password = "p@ss:w/rd?" // characters a DSN would need escaped
	db.Exec(t, "CREATE USER 'reader'@'%' IDENTIFIED BY '"+password+"'; GRANT SELECT ON inventory.* TO 'reader'@'%'")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "db-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dsn, err := mysql.ParseDSN(db.DSN("inventory"))
	if err != nil {
		t.Fatal(err)
	}
	dsn.User = "reader"

	serverCA, clientCA, otherCA := certtest.NewCA(t, "server CA"), certtest.NewCA(t, "client CA"), certtest.NewCA(t, "other CA")
	certFile, keyFile := serverCA.Issue(t, "first").Write(t, dir)
	caFile := filepath.Join(dir, "client-ca.pem")
	certtest.WriteFile(t, caFile, clientCA.PEM)

	var cfg serveConfig // the flags' defaults, then this test's settings
	cfg.flags(flag.NewFlagSet("test", flag.ContinueOnError))
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.NoCache, cfg.ShutdownTimeout, cfg.CacheBytes = "127.0.0.1:0", "127.0.0.1:0", true, time.Second, 16<<20
	cfg.API.TLS.CertFile, cfg.API.TLS.KeyFile, cfg.API.TLS.ClientCAFile = certFile, keyFile, caFile
	cfg.API.TLSReload = 20 * time.Millisecond
	cfg.API.AdminAddr = "127.0.0.1:0"
	cfg.API.DBPasswordFile = pwFile
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.DBDSN, err = withPasswordFile(dsn.FormatDSN(), cfg.API.DBPasswordFile); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [3]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
			func(h, g, a string) { addrs <- [3]string{h, g, a} })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var a [3]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	}
	httpAddr, grpcAddr, adminAddr := a[0], a[1], a[2]

	good, stranger := clientCA.Issue(t, "client"), otherCA.Issue(t, "stranger")
	clientTLS := func(l *certtest.Leaf) *tls.Config {
		c := &tls.Config{RootCAs: serverCA.Pool(), ServerName: "localhost"}
		if l != nil {
			pair, err := tls.X509KeyPair(l.CertPEM, l.KeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			c.Certificates = []tls.Certificate{pair}
		}
		return c
	}
	// httpsGet does a GET on a new connection and returns the status, the
	// server certificate's name and the protocol, or the error.
	httpsGet := func(l *certtest.Leaf, path string) (int, string, string, error) {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS(l), ForceAttemptHTTP2: true, DisableKeepAlives: true}}
		resp, err := client.Get("https://" + httpAddr + path)
		if err != nil {
			return 0, "", "", err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.TLS.PeerCertificates[0].Subject.CommonName, resp.Proto, nil
	}
	// grpcGet calls GetInventory on a new connection and returns the
	// server certificate's name, or the error.
	grpcGet := func(l *certtest.Leaf) (string, error) {
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS(l))))
		if err != nil {
			return "", err
		}
		defer conn.Close()
		var p peer.Peer
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		if _, err := inventoryv1.NewInventoryServiceClient(conn).GetInventory(cctx, &inventoryv1.GetInventoryRequest{ProductId: 1}, grpc.Peer(&p)); err != nil {
			return "", err
		}
		return p.AuthInfo.(credentials.TLSInfo).State.PeerCertificates[0].Subject.CommonName, nil
	}

	// Ready: the database accepted the password from the file.
	pollUntil(t, 20*time.Second, func() (bool, string) {
		code, _, _, err := httpsGet(&good, "/readyz")
		return code == 200, fmt.Sprint(code, err)
	})

	t.Run("HTTPS and gRPC with a client certificate", func(t *testing.T) {
		code, name, proto, err := httpsGet(&good, "/v1/products/1/inventory")
		if err != nil || code != 200 || name != "first" || proto != "HTTP/2.0" {
			t.Fatalf("HTTPS = %d from %q over %s, %v", code, name, proto, err)
		}
		if name, err := grpcGet(&good); err != nil || name != "first" {
			t.Fatalf("gRPC over TLS from %q: %v", name, err)
		}
	})

	t.Run("clients without a trusted certificate are refused", func(t *testing.T) {
		for _, l := range []*certtest.Leaf{nil, &stranger} {
			if code, _, _, err := httpsGet(l, "/healthz"); err == nil {
				t.Errorf("HTTPS with client certificate %v: %d, want a refused handshake", l != nil, code)
			}
			if _, err := grpcGet(l); err == nil {
				t.Errorf("gRPC with client certificate %v: accepted", l != nil)
			}
		}
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Error("plaintext HTTP served on the TLS listener")
			}
		}
	})

	t.Run("pprof only on the admin address", func(t *testing.T) {
		if code, _, _, err := httpsGet(&good, "/debug/pprof/"); err != nil || code != 404 {
			t.Errorf("public /debug/pprof/ = %d, %v; want 404", code, err)
		}
		resp, err := http.Get("http://" + adminAddr + "/debug/pprof/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "test") {
			t.Errorf("admin /debug/pprof/cmdline = %d %q", resp.StatusCode, b)
		}
	})

	t.Run("a rotated certificate is served without a restart", func(t *testing.T) {
		second := serverCA.Issue(t, "second")
		certtest.WriteFile(t, keyFile, second.KeyPEM) // a rotation half done: the old certificate stays
		certtest.WriteFile(t, certFile, second.CertPEM)
		pollUntil(t, 20*time.Second, func() (bool, string) {
			_, name, _, err := httpsGet(&good, "/healthz")
			gname, gerr := grpcGet(&good)
			return name == "second" && gname == "second", fmt.Sprintf("HTTPS %q %v, gRPC %q %v", name, err, gname, gerr)
		})
	})
}

func TestWithPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, dsn, file, want string
	}{
		{"replaces a password, keeps parameters", "u:old@tcp(h:1)/db?parseTime=true", write("a", "n:w@/?\n"), "n:w@/?"},
		{"drops CRLF", "u@tcp(h:1)/db", write("b", "secret\r\n"), "secret"},
		{"keeps inner newlines", "u@tcp(h:1)/db", write("c", "two\nlines\n"), "two\nlines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := withPasswordFile(tc.dsn, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := mysql.ParseDSN(got)
			if err != nil || c.Passwd != tc.want || c.User != "u" || c.DBName != "db" {
				t.Errorf("%s + %q = %s (password %q), %v", tc.dsn, tc.want, got, c.Passwd, err)
			}
		})
	}
	if got, err := withPasswordFile("u:p@tcp(h:1)/db", ""); err != nil || got != "u:p@tcp(h:1)/db" {
		t.Errorf("without a file: %s, %v", got, err)
	}
	for name, file := range map[string]string{"missing": filepath.Join(dir, "absent"), "empty": write("e", "\n")} {
		t.Run(name, func(t *testing.T) {
			if _, err := withPasswordFile("u@tcp(h:1)/db", file); err == nil {
				t.Errorf("%s password file: no error", name)
			}
		})
	}
}
