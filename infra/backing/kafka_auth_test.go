package backing

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// produceAs writes one record to topic as user/pass ("" for no SASL).
func produceAs(t *testing.T, brokers []string, user, pass string) error {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(3 * time.Second), kgo.RetryTimeout(3 * time.Second)}
	if user != "" {
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: "tidings.auth", Value: []byte("x")}).FirstErr()
}

// With a superuser the broker takes only authenticated clients, and the
// superuser still logs in after a restart from the same data dir (kfake
// then takes its users from the dir, not from the options).
func TestKafkaSuperuserAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	k1, err := StartKafka(context.Background(), dir, "127.0.0.1:0", nil, KafkaSuperuser("admin", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if err := produceAs(t, k1.Brokers(), "", ""); err == nil {
		t.Error("a client without SASL produced")
	}
	if err := produceAs(t, k1.Brokers(), "admin", "wrong"); err == nil {
		t.Error("a wrong password produced")
	}
	if err := produceAs(t, k1.Brokers(), "admin", "s3cret"); err != nil {
		t.Fatalf("the superuser cannot produce: %v", err)
	}
	if kcat, err := exec.LookPath("kcat"); err == nil {
		// librdkafka needs SaslHandshake v0 advertised to use SASL at all.
		out, err := exec.Command(kcat, "-b", k1.Brokers()[0], "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=SCRAM-SHA-512",
			"-X", "sasl.username=admin", "-X", "sasl.password=s3cret", "-C", "-t", "tidings.auth", "-o", "beginning", "-e", "-q").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "x") {
			t.Errorf("kcat as the superuser: %v\n%s", err, out)
		}
	}
	if err := k1.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	k2, err := StartKafka(context.Background(), dir, "127.0.0.1:0", nil, KafkaSuperuser("admin", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Stop(context.Background()) //nolint:errcheck
	if err := produceAs(t, k2.Brokers(), "admin", "s3cret"); err != nil {
		t.Fatalf("the superuser cannot produce after a restart: %v", err)
	}
}
