package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// The SASL mechanisms a SecurityConfig can name.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// Errors wrapped by the errors of Check, so that callers can tell a
// misconfiguration, which waiting will not fix, from a broker that is not
// reachable yet.
var (
	// ErrAuthentication: the broker refused the SASL credentials or
	// mechanism, or wants SASL and none is configured.
	ErrAuthentication = errors.New("kafka: SASL authentication failed")
	// ErrTLS: the TLS handshake failed: the broker's certificate is not
	// signed by the configured CA or does not name the server, the broker
	// wants a client certificate, or it does not speak TLS.
	ErrTLS = errors.New("kafka: TLS handshake failed")
)

// SecurityConfig says how to reach brokers that require TLS, SASL or
// both, as managed Kafka services do. The zero value is plaintext without
// authentication.
type SecurityConfig struct {
	// TLS turns TLS on. It is implied by CAFile, CertFile and ServerName.
	TLS bool
	// CAFile is a PEM file of the certificate authorities that sign the
	// brokers' certificates; empty trusts the system's roots (enough for
	// Confluent Cloud, MSK and Aiven's public endpoints).
	CAFile string
	// CertFile and KeyFile are the client's PEM certificate and key, for
	// brokers that authenticate clients by certificate (mutual TLS). Both
	// or neither.
	CertFile, KeyFile string
	// ServerName is the name the brokers' certificates must carry; empty
	// checks each broker against the host it was dialled by. The check is
	// never skipped.
	ServerName string

	// SASLMechanism is SASLPlain, SASLScramSHA256, SASLScramSHA512, or
	// empty for none.
	SASLMechanism string
	// SASLUser is the SASL user name (Confluent Cloud: the API key).
	SASLUser string
	// SASLPassword is the SASL password (Confluent Cloud: the API secret).
	// Ignored when SASLPasswordFile is set.
	SASLPassword string
	// SASLPasswordFile is a file holding the password (one line; a
	// trailing newline is dropped). It is read again at every
	// authentication, so a rotated secret is picked up without a restart.
	SASLPasswordFile string
}

// tlsOn reports whether the configuration asks for TLS.
func (c SecurityConfig) tlsOn() bool {
	return c.TLS || c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.ServerName != ""
}

// String describes the configuration without its secrets, for logs.
func (c SecurityConfig) String() string {
	var parts []string
	if c.tlsOn() {
		t := "tls"
		if c.CAFile != "" {
			t += " ca=" + c.CAFile
		}
		if c.CertFile != "" {
			t += " client-cert=" + c.CertFile
		}
		if c.ServerName != "" {
			t += " server-name=" + c.ServerName
		}
		parts = append(parts, t)
	}
	if c.SASLMechanism != "" {
		parts = append(parts, fmt.Sprintf("sasl %s user=%q", c.SASLMechanism, c.SASLUser))
	}
	if len(parts) == 0 {
		return "plaintext"
	}
	return strings.Join(parts, ", ")
}

// ClientOptions returns the franz-go options that apply c: a dialer TLS
// configuration (kgo.DialTLSConfig) and a SASL mechanism (kgo.SASL), from
// franz-go's own sasl/plain and sasl/scram packages. It reads the
// certificate files and the password file now, so that a missing or bad
// file is an error at startup rather than at the first connection.
func (c SecurityConfig) ClientOptions() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if c.tlsOn() {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if c.SASLMechanism != "" || c.SASLUser != "" || c.SASLPassword != "" || c.SASLPasswordFile != "" {
		m, err := c.mechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func (c SecurityConfig) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka TLS CA file %s: no PEM certificate in it", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, errors.New("kafka TLS: a client certificate needs both its certificate file and its key file")
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka TLS client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (c SecurityConfig) mechanism() (sasl.Mechanism, error) {
	if c.SASLUser == "" {
		return nil, errors.New("kafka SASL: a user name is required")
	}
	if c.SASLPasswordFile == "" && c.SASLPassword == "" {
		return nil, errors.New("kafka SASL: a password is required (from a file or the environment)")
	}
	if _, err := c.password(); err != nil {
		return nil, err
	}
	user := c.SASLUser
	switch strings.ToUpper(c.SASLMechanism) {
	case SASLPlain:
		return plain.Plain(func(context.Context) (plain.Auth, error) {
			pass, err := c.password()
			return plain.Auth{User: user, Pass: pass}, err
		}), nil
	case SASLScramSHA256, SASLScramSHA512:
		auth := func(context.Context) (scram.Auth, error) {
			pass, err := c.password()
			return scram.Auth{User: user, Pass: pass}, err
		}
		if strings.ToUpper(c.SASLMechanism) == SASLScramSHA256 {
			return scram.Sha256(auth), nil
		}
		return scram.Sha512(auth), nil
	case "":
		return nil, fmt.Errorf("kafka SASL: credentials given but no mechanism (%s, %s or %s)", SASLPlain, SASLScramSHA256, SASLScramSHA512)
	}
	return nil, fmt.Errorf("kafka SASL: unknown mechanism %q (want %s, %s or %s)", c.SASLMechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512)
}

// password returns the SASL password, reading SASLPasswordFile if set.
func (c SecurityConfig) password() (string, error) {
	if c.SASLPasswordFile == "" {
		return c.SASLPassword, nil
	}
	b, err := os.ReadFile(c.SASLPasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafka SASL password file: %w", err)
	}
	pass := strings.TrimRight(string(b), "\r\n")
	if pass == "" {
		return "", fmt.Errorf("kafka SASL password file %s is empty", c.SASLPasswordFile)
	}
	return pass, nil
}

// checkAttempts is how many times Check tries when the broker closes the
// connection without saying why, as brokers do both when restarting and,
// for some, when refusing a client's TLS or SASL settings: only a broker
// that does it every time, over a few seconds, is taken as refusing.
const checkAttempts = 4

// Check connects to the brokers with c, within timeout, and returns nil
// if one answered. Its error wraps ErrAuthentication or ErrTLS when the
// configuration is wrong (waiting will not help), and says so in words;
// any other error means no broker was reachable.
func Check(ctx context.Context, brokers []string, c SecurityConfig, timeout time.Duration) error {
	opts, err := c.ClientOptions()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(brokers...))...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	at := strings.Join(brokers, ",")
	for attempt := 1; ; attempt++ {
		err = cl.Ping(ctx)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, io.EOF): // a broker's answer, a refused dial or handshake, a timeout
			return c.explain(at, timeout, err)
		case attempt == checkAttempts:
			var firstRead *kgo.ErrFirstReadEOF
			if c.SASLMechanism != "" && !errors.As(err, &firstRead) {
				// Some brokers (kfake among them) refuse credentials by
				// closing the connection during authentication.
				return fmt.Errorf("%w at %s as user %q with %s: the broker closes the connection during authentication, "+
					"which is how some brokers refuse credentials: check the user name and the password: %w",
					ErrAuthentication, at, c.SASLUser, c.SASLMechanism, err)
			}
			return c.explain(at, timeout, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka: no broker reachable at %s: %w", at, err)
		case <-time.After(250 * time.Millisecond << attempt):
		}
	}
}

// explain classifies a connection error and wraps it with what to check.
func (c SecurityConfig) explain(at string, timeout time.Duration, err error) error {
	var (
		unknownCA x509.UnknownAuthorityError
		badName   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		recordHdr tls.RecordHeaderError
		alert     tls.AlertError
		closed    *kgo.ErrFirstReadEOF
	)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.IllegalSaslState):
		return fmt.Errorf("%w at %s as user %q with %s: check the user name and the password: %w", ErrAuthentication, at, c.SASLUser, c.SASLMechanism, err)
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Errorf("%w at %s: the broker does not offer %s: %w", ErrAuthentication, at, c.SASLMechanism, err)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w at %s: the broker's certificate is not signed by a trusted authority (CA file %q): %w", ErrTLS, at, c.CAFile, err)
	case errors.As(err, &badName):
		return fmt.Errorf("%w at %s: the broker's certificate does not carry the expected server name (set the TLS server name to one it carries): %w", ErrTLS, at, err)
	case errors.As(err, &invalid), errors.As(err, &verify):
		return fmt.Errorf("%w at %s: the broker's certificate is not valid: %w", ErrTLS, at, err)
	case errors.As(err, &recordHdr):
		return fmt.Errorf("%w at %s: the broker does not speak TLS (turn TLS off, or use its TLS listener): %w", ErrTLS, at, err)
	case errors.As(err, &alert), strings.Contains(err.Error(), "remote error: tls:"):
		return fmt.Errorf("%w at %s: the broker refused the handshake (does it require a client certificate?): %w", ErrTLS, at, err)
	case errors.As(err, &closed) && strings.Contains(closed.Error(), "SASL"):
		return fmt.Errorf("%w at %s: %w", ErrAuthentication, at, err)
	case errors.As(err, &closed):
		return fmt.Errorf("%w at %s: %w", ErrTLS, at, err)
	case c.tlsOn() && errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("kafka: no answer from %s within %s (a broker without TLS on that port leaves a TLS handshake waiting): %w", at, timeout, err)
	}
	return fmt.Errorf("kafka: no broker reachable at %s: %w", at, err)
}
