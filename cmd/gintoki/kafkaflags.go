package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/gintoki/gintoki/kafka"
)

// envKafkaPassword is the environment variable holding the SASL password
// when no password file is given. There is deliberately no flag for it: a
// password on the command line shows in ps and in shell history.
const envKafkaPassword = "GINTOKI_KAFKA_SASL_PASSWORD"

// kafkaFlags are the broker security settings, the same for serve and
// relay.
type kafkaFlags struct {
	TLS              bool
	CAFile           string
	CertFile         string
	KeyFile          string
	ServerName       string
	SASLMechanism    string
	SASLUser         string
	SASLPasswordFile string
	// saslPassword comes from $GINTOKI_KAFKA_SASL_PASSWORD (see resolve).
	saslPassword string
}

func (k *kafkaFlags) flags(fs *flag.FlagSet) {
	fs.BoolVar(&k.TLS, "kafka-tls", false, "connect to the brokers over TLS (implied by the other --kafka-tls-* flags); the system's roots are trusted unless --kafka-tls-ca-file is set")
	fs.StringVar(&k.CAFile, "kafka-tls-ca-file", "", "PEM file of the authorities that sign the brokers' certificates (empty: the system's roots)")
	fs.StringVar(&k.CertFile, "kafka-tls-cert-file", "", "PEM client certificate, for brokers that require one (mutual TLS); needs --kafka-tls-key-file")
	fs.StringVar(&k.KeyFile, "kafka-tls-key-file", "", "PEM key of --kafka-tls-cert-file")
	fs.StringVar(&k.ServerName, "kafka-tls-server-name", "", "name the brokers' certificates must carry (empty: each broker's host name as dialled); the check is never skipped")
	fs.StringVar(&k.SASLMechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)")
	fs.StringVar(&k.SASLUser, "kafka-sasl-user", "", "SASL user name (Confluent Cloud: the API key)")
	fs.StringVar(&k.SASLPasswordFile, "kafka-sasl-password-file", "", "file holding the SASL password (Confluent Cloud: the API secret), re-read at every authentication; "+
		"without it the password is read from $"+envKafkaPassword+", never from the command line")
}

// resolve takes the password from the environment when no password file
// is given.
func (k *kafkaFlags) resolve(lookupEnv func(string) (string, bool)) {
	if k.SASLPasswordFile == "" {
		k.saslPassword, _ = lookupEnv(envKafkaPassword)
	}
}

// security returns the kafka package's view of the flags.
func (k *kafkaFlags) security() kafka.SecurityConfig {
	return kafka.SecurityConfig{
		TLS: k.TLS, CAFile: k.CAFile, CertFile: k.CertFile, KeyFile: k.KeyFile, ServerName: k.ServerName,
		SASLMechanism: k.SASLMechanism, SASLUser: k.SASLUser, SASLPassword: k.saslPassword, SASLPasswordFile: k.SASLPasswordFile,
	}
}

// validate checks the settings, files included, without connecting. The
// messages name the flags.
func (k *kafkaFlags) validate() error {
	if k.SASLMechanism != "" && k.SASLPasswordFile == "" && k.saslPassword == "" {
		return fmt.Errorf("--kafka-sasl-mechanism %s needs a password: --kafka-sasl-password-file, or $%s", k.SASLMechanism, envKafkaPassword)
	}
	if k.SASLMechanism != "" && k.SASLUser == "" {
		return fmt.Errorf("--kafka-sasl-mechanism %s needs --kafka-sasl-user", k.SASLMechanism)
	}
	if k.SASLMechanism == "" && (k.SASLUser != "" || k.SASLPasswordFile != "") {
		return errors.New("--kafka-sasl-user and --kafka-sasl-password-file need --kafka-sasl-mechanism")
	}
	if _, err := k.security().ClientOptions(); err != nil {
		return fmt.Errorf("kafka security flags: %w", err)
	}
	return nil
}

// kafkaCheckTimeout bounds the connection check at startup.
const kafkaCheckTimeout = 10 * time.Second

// checkKafka connects to the brokers once. A refused TLS handshake or SASL
// authentication is returned as an error that names the flags to check,
// since waiting will not fix it; a broker that cannot be reached is only
// logged, since the clients keep retrying.
func (k *kafkaFlags) checkKafka(ctx context.Context, brokers []string, log *slog.Logger) error {
	err := kafka.Check(ctx, brokers, k.security(), kafkaCheckTimeout)
	switch {
	case err == nil:
		log.Info("Kafka brokers reachable", "brokers", brokers, "security", k.security().String())
		return nil
	case errors.Is(err, kafka.ErrAuthentication):
		return fmt.Errorf("%w (flags --kafka-sasl-mechanism, --kafka-sasl-user, --kafka-sasl-password-file or $%s)", err, envKafkaPassword)
	case errors.Is(err, kafka.ErrTLS):
		return fmt.Errorf("%w (flags --kafka-tls, --kafka-tls-ca-file, --kafka-tls-server-name, --kafka-tls-cert-file)", err)
	case ctx.Err() != nil:
		return nil
	}
	log.Warn("Kafka brokers not reachable yet; retrying in the background", "brokers", brokers, "security", k.security().String(), "err", err)
	return nil
}
