package kafkaauth

import (
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A broker with SASL and ACLs: "writer" may write topic t, nobody else may.
func broker(t *testing.T) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser(ScramSHA512, "admin", "admin-pass"),
		kfake.User(ScramSHA512, "writer", "writer-pass", kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: "t",
			Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationWrite, Allow: true}),
		kfake.User(ScramSHA512, "other", "other-pass"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func produceSarama(t *testing.T, brokers []string, c Credentials) error {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 0
	cfg.Metadata.Retry.Max = 0
	cfg.Net.DialTimeout, cfg.Net.ReadTimeout = 2*time.Second, 2*time.Second
	if err := c.Sarama(cfg); err != nil {
		t.Fatal(err)
	}
	p, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: "t", Value: sarama.StringEncoder("x")})
	return err
}

func TestSaramaAuthenticatesAsTheSecretSays(t *testing.T) {
	brokers := broker(t)
	if err := produceSarama(t, brokers, SCRAM("writer", "writer-pass")); err != nil {
		t.Fatalf("the writer cannot write: %v", err)
	}
	for name, c := range map[string]Credentials{
		"no credentials": {},
		"wrong password": SCRAM("writer", "guess"),
		"another user":   SCRAM("other", "other-pass"),
	} {
		if err := produceSarama(t, brokers, c); err == nil {
			t.Errorf("%s: produced", name)
		}
	}
}

func TestFranzAuthenticatesAsTheSecretSays(t *testing.T) {
	brokers := broker(t)
	auth, err := SCRAM("admin", "admin-pass").Franz()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(auth, kgo.SeedBrokers(brokers...))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "t", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("the superuser cannot write: %v", err)
	}
}

func TestSecretShape(t *testing.T) {
	dir := t.TempDir()
	want := SCRAM("u", "p")
	if err := WriteDir(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDir(dir)
	if err != nil || got.User != "u" || got.Password != "p" || got.Protocol != SASLPlaintext || got.Mechanism != ScramSHA512 {
		t.Fatalf("read back %+v, %v", got, err)
	}
	for name, c := range map[string]struct {
		data map[string][]byte
		msg  string
	}{
		"no protocol":       {map[string][]byte{KeyUser: []byte("u")}, "protocol required"},
		"unknown protocol":  {map[string][]byte{KeyProtocol: []byte("TLS")}, "unsupported"},
		"SASL without user": {map[string][]byte{KeyProtocol: []byte(SASLSSL), KeyPassword: []byte("p")}, "user and password required"},
		"unknown mechanism": {map[string][]byte{KeyProtocol: []byte(SASLSSL), KeyUser: []byte("u"), KeyPassword: []byte("p"), KeyMechanism: []byte("GSSAPI")}, "unsupported SASL mechanism"},
	} {
		if _, err := FromSecret(c.data); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %q", name, err, c.msg)
		}
	}
	if c, err := FromSecret(map[string][]byte{KeyProtocol: []byte(SASLSSL), KeyUser: []byte("u"), KeyPassword: []byte("p")}); err != nil || c.Mechanism != Plain {
		t.Errorf("mechanism defaults to PLAIN as eventing-kafka-broker's does: %+v %v", c, err)
	}
	if _, err := (Credentials{Protocol: SASLSSL, User: "u", Password: "p", CACert: []byte("not a pem")}).Franz(); err == nil {
		t.Error("a bad ca.crt was accepted")
	}
}
