// Package kafkaauth is the identity a part of the local Knative Kafka data
// plane (the KafkaSink ingress, a KafkaSource dispatcher, the dead-letter
// tools, the stack's own admin) presents to the broker. It reads the same
// Secret shape eventing-kafka-broker reads for a KafkaSink's spec.auth.secret
// (keys protocol, sasl.mechanism, user, password, ca.crt; eventing-kafka-broker
// control-plane/pkg/security/secret.go) and applies it to sarama as that file
// does, or to franz-go for admin work.
package kafkaauth

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	xdgscram "github.com/xdg-go/scram"
)

// The Secret's keys and values (eventing-kafka-broker
// control-plane/pkg/security/secret.go).
const (
	KeyProtocol  = "protocol"
	KeyMechanism = "sasl.mechanism"
	KeyUser      = "user"
	KeyPassword  = "password"
	KeyCACert    = "ca.crt"

	Plaintext     = "PLAINTEXT"
	SASLPlaintext = "SASL_PLAINTEXT"
	SSL           = "SSL"
	SASLSSL       = "SASL_SSL"

	ScramSHA512 = "SCRAM-SHA-512"
	ScramSHA256 = "SCRAM-SHA-256"
	Plain       = "PLAIN"
)

// Credentials is one Secret's worth of identity. The zero value is
// PLAINTEXT: no authentication, as a broker without listeners' auth takes.
type Credentials struct {
	Protocol  string
	Mechanism string
	User      string
	Password  string
	CACert    []byte // PEM; empty means the system roots
}

// SCRAM is a SASL_PLAINTEXT SCRAM-SHA-512 identity: what the local broker
// takes (its listener has no TLS; a cluster's does, see infra/cluster/kafka.yaml).
func SCRAM(user, password string) Credentials {
	return Credentials{Protocol: SASLPlaintext, Mechanism: ScramSHA512, User: user, Password: password}
}

// SASL says whether the credentials authenticate at all.
func (c Credentials) SASL() bool { return c.Protocol == SASLPlaintext || c.Protocol == SASLSSL }

func (c Credentials) tls() bool { return c.Protocol == SSL || c.Protocol == SASLSSL }

// FromSecret reads a Secret's data as eventing-kafka-broker does: protocol is
// required; SASL needs user and password; the mechanism defaults to PLAIN.
func FromSecret(data map[string][]byte) (Credentials, error) {
	c := Credentials{
		Protocol: string(data[KeyProtocol]), Mechanism: string(data[KeyMechanism]),
		User: string(data[KeyUser]), Password: string(data[KeyPassword]), CACert: data[KeyCACert],
	}
	switch c.Protocol {
	case "":
		return Credentials{}, fmt.Errorf("protocol required (key: %s)", KeyProtocol)
	case Plaintext, SSL:
		return c, nil
	case SASLPlaintext, SASLSSL:
	default:
		return Credentials{}, fmt.Errorf("protocol %q unsupported (key: %s)", c.Protocol, KeyProtocol)
	}
	if c.Mechanism == "" {
		c.Mechanism = Plain
	}
	if c.User == "" || c.Password == "" {
		return Credentials{}, fmt.Errorf("[protocol %s] SASL user and password required (keys: %s, %s)", c.Protocol, KeyUser, KeyPassword)
	}
	switch c.Mechanism {
	case Plain, ScramSHA256, ScramSHA512:
		return c, nil
	}
	return Credentials{}, fmt.Errorf("[protocol %s] unsupported SASL mechanism %q (key: %s)", c.Protocol, c.Mechanism, KeyMechanism)
}

// ReadDir reads a Secret mounted as a volume (one file per key), as the dlq
// Job mounts it on a cluster and the local stack writes it.
func ReadDir(dir string) (Credentials, error) {
	data := map[string][]byte{}
	for _, k := range []string{KeyProtocol, KeyMechanism, KeyUser, KeyPassword, KeyCACert} {
		b, err := os.ReadFile(filepath.Join(dir, k))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return Credentials{}, err
		}
		data[k] = b
	}
	c, err := FromSecret(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("kafka secret in %s: %w", dir, err)
	}
	return c, nil
}

// WriteDir writes c as a mounted Secret would look: one 0600 file per key.
func WriteDir(dir string, c Credentials) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data := map[string][]byte{KeyProtocol: []byte(c.Protocol), KeyMechanism: []byte(c.Mechanism), KeyUser: []byte(c.User), KeyPassword: []byte(c.Password)}
	if len(c.CACert) > 0 {
		data[KeyCACert] = c.CACert
	}
	for k, v := range data {
		if len(v) == 0 {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, k), v, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Sarama applies c to a sarama config, as eventing-kafka-broker's
// saslConfig and sslConfig do (control-plane/pkg/security/secret.go).
func (c Credentials) Sarama(cfg *sarama.Config) error {
	if c.tls() {
		t, err := c.tlsConfig()
		if err != nil {
			return err
		}
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = t
	}
	if !c.SASL() {
		return nil
	}
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.User = c.User
	cfg.Net.SASL.Password = c.Password
	switch c.Mechanism {
	case ScramSHA512:
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: sha512.New} }
	case ScramSHA256:
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: sha256.New} }
	case Plain, "":
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	default:
		return fmt.Errorf("kafkaauth: unsupported SASL mechanism %q", c.Mechanism)
	}
	return nil
}

// Franz returns the franz-go options for c.
func (c Credentials) Franz() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if c.tls() {
		t, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(t))
	}
	if !c.SASL() {
		return opts, nil
	}
	auth := scram.Auth{User: c.User, Pass: c.Password}
	switch c.Mechanism {
	case ScramSHA512:
		opts = append(opts, kgo.SASL(auth.AsSha512Mechanism()))
	case ScramSHA256:
		opts = append(opts, kgo.SASL(auth.AsSha256Mechanism()))
	default:
		return nil, fmt.Errorf("kafkaauth: franz-go admin supports SCRAM only, not %q", c.Mechanism)
	}
	return opts, nil
}

func (c Credentials) tlsConfig() (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(c.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.CACert) {
			return nil, fmt.Errorf("kafkaauth: cannot parse the CA certificates (key: %s)", KeyCACert)
		}
		t.RootCAs = pool
	}
	return t, nil
}

// scramClient is sarama's SCRAM conversation over xdg-go/scram, the library
// eventing-kafka-broker uses (control-plane/pkg/security/scram.go).
type scramClient struct {
	hash func() hash.Hash
	conv *xdgscram.ClientConversation
}

func (s *scramClient) Begin(user, password, authzID string) error {
	c, err := xdgscram.HashGeneratorFcn(s.hash).NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	s.conv = c.NewConversation()
	return nil
}

func (s *scramClient) Step(challenge string) (string, error) { return s.conv.Step(challenge) }
func (s *scramClient) Done() bool                            { return s.conv.Done() }
