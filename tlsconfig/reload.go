// Package tlsconfig provides the servers' TLS configuration from a
// certificate, a key and optionally a client CA bundle held in files, and
// reloads them when the files change, as cert-manager and similar tools
// rotate them in place: new handshakes use the new files, connections
// already open keep theirs, and nothing restarts.
//
// It imports only the standard library, and no project package.
package tlsconfig

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Files names the files a Reloader reads.
type Files struct {
	CertFile string // PEM certificate chain, leaf first
	KeyFile  string // PEM private key of the leaf
	// ClientCAFile, if set, is a PEM bundle of the CAs client certificates
	// must chain to: every client must present a certificate that does
	// (mutual TLS).
	ClientCAFile string
}

// Reloader holds the current certificate and client CA pool, and swaps
// them when their files change.
type Reloader struct {
	files Files
	log   *slog.Logger

	mu      sync.RWMutex // guards the fields below; handshakes read them
	cert    *tls.Certificate
	pool    *x509.CertPool // nil without ClientCAFile
	content [3][]byte      // the cert, key and CA file contents loaded
}

// New loads the files; it fails if they cannot be read or do not hold a
// matching certificate and key (and a CA bundle, if named).
func New(files Files, log *slog.Logger) (*Reloader, error) {
	if files.CertFile == "" || files.KeyFile == "" {
		return nil, errors.New("TLS needs both a certificate file and a key file")
	}
	r := &Reloader{files: files, log: log}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the files again and, if their content changed and is
// valid, uses it for new handshakes. It reports whether it swapped
// anything. On error the previous certificate and pool stay in use.
func (r *Reloader) Reload() (changed bool, err error) {
	var content [3][]byte
	for i, name := range []string{r.files.CertFile, r.files.KeyFile, r.files.ClientCAFile} {
		if name == "" {
			continue
		}
		if content[i], err = os.ReadFile(name); err != nil {
			return false, fmt.Errorf("read TLS file: %w", err)
		}
	}
	r.mu.RLock()
	same := bytes.Equal(content[0], r.content[0]) && bytes.Equal(content[1], r.content[1]) && bytes.Equal(content[2], r.content[2])
	r.mu.RUnlock()
	if same {
		return false, nil
	}
	cert, err := tls.X509KeyPair(content[0], content[1])
	if err != nil {
		// A rotation writes the certificate and the key one after the
		// other: a mismatch can be the moment between the two, and the
		// next check sees both.
		return false, fmt.Errorf("load TLS certificate %s and key %s: %w", r.files.CertFile, r.files.KeyFile, err)
	}
	var pool *x509.CertPool
	if r.files.ClientCAFile != "" {
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(content[2]) {
			return false, fmt.Errorf("client CA file %s holds no PEM certificate", r.files.ClientCAFile)
		}
	}
	r.mu.Lock()
	r.cert, r.pool, r.content = &cert, pool, content
	r.mu.Unlock()
	return true, nil
}

// Run checks the files every interval until ctx ends, reloading them when
// they change. A failed reload is logged and retried at the next check.
func (r *Reloader) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		changed, err := r.Reload()
		switch {
		case err != nil:
			r.log.Warn("TLS files not reloaded; the previous certificate stays in use", "err", err)
		case changed:
			r.log.Info("TLS files reloaded", "cert_file", r.files.CertFile, "not_after", r.NotAfter())
		}
	}
}

// NotAfter returns the expiry time of the current leaf certificate.
func (r *Reloader) NotAfter() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert.Leaf.NotAfter // X509KeyPair fills Leaf (Go ≥ 1.23)
}

// ServerConfig returns a tls.Config that serves the current certificate
// and, with a client CA file, requires and verifies client certificates
// against the current pool. The config reads the Reloader at every
// handshake, so reloads apply to new connections at once.
func (r *Reloader) ServerConfig() *tls.Config {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			r.mu.RLock()
			defer r.mu.RUnlock()
			return r.cert, nil
		},
	}
	if r.files.ClientCAFile != "" {
		// The pool can change, so the check is done here rather than by
		// tls.Config.ClientCAs, which is fixed once the server starts.
		cfg.ClientAuth = tls.RequireAnyClientCert
		cfg.VerifyConnection = r.verifyClient
	}
	return cfg
}

// verifyClient checks the client's certificate chain against the current
// client CA pool, for client authentication.
func (r *Reloader) verifyClient(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("client certificate required")
	}
	r.mu.RLock()
	pool := r.pool
	r.mu.RUnlock()
	opts := x509.VerifyOptions{
		Roots:         pool,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return fmt.Errorf("client certificate: %w", err)
	}
	return nil
}
