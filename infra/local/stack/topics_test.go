package stack

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/infra/testenv"
	"github.com/tidings-dev/tidings/knative/topology"
)

func shippedTopics(t *testing.T) []*topology.KafkaTopic {
	t.Helper()
	topo, err := topology.Load(filepath.Join("..", "..", "..", "knative"))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.KafkaTopics) == 0 {
		t.Fatal("no KafkaTopics in knative/")
	}
	return topo.KafkaTopics
}

func admin(t *testing.T, brokers []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// The local Kafka gets every topic of knative/topics.yaml with its partitions
// and its config, not the broker's auto-created 3 partitions; a topic an older
// stack auto-created grows to the declared count; a larger one is left alone.
func TestCreateTopicsFromManifests(t *testing.T) {
	ctx := context.Background()
	brokers := testenv.Kafka(t)
	adm := admin(t, brokers)
	// What an older stack left in .data: auto-created topics of 3 partitions.
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "tidings.posts"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 8, 1, nil, "tidings.users"); err != nil {
		t.Fatal(err)
	}
	topics := shippedTopics(t)

	said, err := createTopics(ctx, brokers, kafkaauth.Credentials{}, topics)
	if err != nil {
		t.Fatal(err)
	}
	log := strings.Join(said, "\n")
	for _, line := range []string{
		"topic tidings.posts: grew from 3 to 6 partitions",
		"topic tidings.users has 8 partitions, more than the 6 of KafkaTopic tidings.users",
		"topic tidings.dlq.welcome: created, 1 partitions, 1 replicas",
	} {
		if !strings.Contains(log, line) {
			t.Errorf("createTopics said:\n%s\nwant a line %q", log, line)
		}
	}

	details, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range topics {
		d, ok := details[k.Topic]
		if !ok {
			t.Errorf("topic %s not created", k.Topic)
			continue
		}
		want := k.Partitions
		if k.Topic == "tidings.users" {
			want = 8
		}
		if got := len(d.Partitions); got != want {
			t.Errorf("topic %s has %d partitions, want %d", k.Topic, got, want)
		}
	}
	configs, err := adm.DescribeTopicConfigs(ctx, "tidings.dlq.notify")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := configs.On("tidings.dlq.notify", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range rc.Configs {
		got[c.Key] = c.MaybeValue()
	}
	// One broker: min.insync.replicas is capped at the one replica.
	if got["retention.ms"] != "7776000000" || got["min.insync.replicas"] != "1" {
		t.Errorf("tidings.dlq.notify config retention.ms=%q min.insync.replicas=%q", got["retention.ms"], got["min.insync.replicas"])
	}

	// A second run (the next `up`) changes nothing.
	said, err = createTopics(ctx, brokers, kafkaauth.Credentials{}, topics)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range said {
		if !strings.Contains(line, "more than the") {
			t.Errorf("second run changed something: %s", line)
		}
	}
}

func TestCreateTopicsKafkaDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	if _, err := createTopics(ctx, []string{addr}, kafkaauth.Credentials{}, shippedTopics(t)); err == nil {
		t.Fatal("createTopics with no broker succeeded")
	}
}
