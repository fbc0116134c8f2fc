package topology

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Every topic a sink writes or a source reads is a KafkaTopic with the
// partitions the consumers were sized for, 3 replicas, min.insync.replicas 2,
// and dead-letter and parked topics keep their records for 90 days.
func TestShippedTopics(t *testing.T) {
	topo := loadShipped(t)
	want := map[string]int{
		"tidings.users": 6, "tidings.friends": 6, "tidings.posts": 6, "tidings.notifications": 24,
		"tidings.dlq.welcome": 1, "tidings.dlq.fanout": 1, "tidings.dlq.notify": 1,
		"tidings.parked.welcome": 1, "tidings.parked.fanout": 1, "tidings.parked.notify": 1,
	}
	if len(topo.KafkaTopics) != len(want) {
		t.Errorf("%d KafkaTopics, want %d", len(topo.KafkaTopics), len(want))
	}
	for topic, partitions := range want {
		k := topo.KafkaTopic(topic)
		if k == nil {
			t.Errorf("no KafkaTopic declares %s", topic)
			continue
		}
		if k.Name != topic || k.Namespace != "tidings" || k.Cluster != "tidings" || k.Partitions != partitions || k.Replicas != 3 {
			t.Errorf("KafkaTopic %s = %+v", topic, *k)
		}
		wantConfig := map[string]string{"min.insync.replicas": "2"}
		if strings.HasPrefix(topic, "tidings.dlq.") || strings.HasPrefix(topic, "tidings.parked.") {
			wantConfig["retention.ms"] = "7776000000"
		}
		if !maps.Equal(k.Config, wantConfig) {
			t.Errorf("KafkaTopic %s config = %v, want %v", topic, k.Config, wantConfig)
		}
		if k.File() != "topics.yaml" {
			t.Errorf("KafkaTopic %s from %s", topic, k.File())
		}
	}
	if topo.KafkaTopic("tidings.nope") != nil {
		t.Error("KafkaTopic(tidings.nope) found a topic")
	}
}

// No shipped KafkaSink may own its topic: the controller deletes an owned topic
// with its sink (eventing-kafka-broker,
// control-plane/pkg/reconciler/sink/kafka_sink.go, finalizeKind).
func TestShippedSinksLeaveTopicsExternal(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(knativeDir, "sinks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"numPartitions:", "replicationFactor:"} {
		for i, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), field) {
				t.Errorf("sinks.yaml:%d sets %s", i+1, field)
			}
		}
	}
}

func TestBrokenTopics(t *testing.T) {
	const postsTopic = "  name: tidings.posts\n"
	const dlqFanout = "  name: tidings.dlq.fanout\n"
	cases := []brokenCase{
		{"a sink that would own its topic",
			[]edit{{"sinks.yaml", "name: users", "  contentMode: binary\n", "  contentMode: binary\n  numPartitions: 6\n  replicationFactor: 3\n"}},
			[]want{
				{"sinks.yaml", "KafkaSink", "users", "spec.numPartitions", "deletes it when the sink is deleted"},
				{"sinks.yaml", "KafkaSink", "users", "spec.replicationFactor", "remove it"},
			}},
		{"only numPartitions",
			[]edit{{"sinks.yaml", "name: friends", "  contentMode: binary\n", "  contentMode: binary\n  numPartitions: 6\n"}},
			[]want{{"sinks.yaml", "KafkaSink", "friends", "spec.numPartitions", "remove it"}}},
		{"an undeclared topic",
			[]edit{{"topics.yaml", "", postsTopic, "  name: tidings.post\n"}},
			[]want{
				{"sinks.yaml", "KafkaSink", "posts", "spec.topic", `"tidings.posts" is not declared by any KafkaTopic`},
				{"sources.yaml", "KafkaSource", "fanout", "spec.topics[0]", "not declared"},
				{"topics.yaml", "KafkaTopic", "tidings.post", "metadata.name", "no KafkaSink we ship writes"},
			}},
		{"an undeclared dead-letter topic",
			[]edit{{"topics.yaml", "", dlqFanout, "  name: tidings.dlq.fan-out\n"}},
			[]want{{"sinks.yaml", "KafkaSink", "dlq-fanout", "spec.topic", `"tidings.dlq.fanout" is not declared`}}},
		{"a dead-letter topic with the default retention",
			[]edit{{"topics.yaml", dlqFanout, "    retention.ms: 7776000000 # 90 days\n", ""}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.dlq.fanout", "spec.config.retention.ms", "dead-letter topic of KafkaSource fanout"}}},
		{"a dead-letter topic kept one day",
			[]edit{{"topics.yaml", dlqFanout, "retention.ms: 7776000000", "retention.ms: 86400000"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.dlq.fanout", "spec.config.retention.ms", "at least 720h"}}},
		{"retention that is not a number",
			[]edit{{"topics.yaml", dlqFanout, "retention.ms: 7776000000", "retention.ms: 90d"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.dlq.fanout", "spec.config.retention.ms", "want milliseconds"}}},
		{"min.insync.replicas equal to replicas",
			[]edit{{"topics.yaml", postsTopic, "min.insync.replicas: 2", "min.insync.replicas: 3"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.config.min.insync.replicas", "want 1..2"}}},
		{"min.insync.replicas missing",
			[]edit{{"topics.yaml", postsTopic, "  config:\n    min.insync.replicas: 2\n", ""}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.config.min.insync.replicas", "required"}}},
		{"min.insync.replicas not a number",
			[]edit{{"topics.yaml", postsTopic, "min.insync.replicas: 2", "min.insync.replicas: two"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.config.min.insync.replicas", "not an integer"}}},
		{"zero partitions",
			[]edit{{"topics.yaml", postsTopic, "partitions: 6", "partitions: 0"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.partitions", "must be >= 1"}}},
		{"partitions left to the broker",
			[]edit{{"topics.yaml", postsTopic, "  partitions: 6\n", ""}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.partitions", "required"}}},
		{"replicas left to the broker",
			[]edit{{"topics.yaml", postsTopic, "  replicas: 3\n", ""}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.replicas", "required"}}},
		{"no cluster label",
			[]edit{{"topics.yaml", postsTopic, "  labels:\n    strimzi.io/cluster: tidings\n", ""}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "metadata.labels.strimzi.io/cluster", "Topic Operator"}}},
		{"a name Kubernetes refuses",
			[]edit{{"topics.yaml", "", postsTopic, "  name: Tidings_Posts\n"}},
			[]want{{"topics.yaml", "KafkaTopic", "Tidings_Posts", "metadata.name", "not a Kubernetes object name"}}},
		{"topicName with a character Kafka refuses",
			[]edit{{"topics.yaml", postsTopic, "  partitions: 6\n", "  topicName: tidings/posts\n  partitions: 6\n"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.topicName", "not a legal Kafka topic name"}}},
		{"one topic declared twice",
			[]edit{{"topics.yaml", postsTopic, "  partitions: 6\n", "  topicName: tidings.users\n  partitions: 6\n"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "metadata.name", `topic "tidings.users" is also declared by KafkaTopic tidings.users`}}},
		{"a typo in a KafkaTopic field",
			[]edit{{"topics.yaml", postsTopic, "partitions: 6", "partition: 6"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.partition", "unknown field"}}},
		{"partitions of the wrong type",
			[]edit{{"topics.yaml", postsTopic, "partitions: 6", "partitions: six"}},
			[]want{{"topics.yaml", "KafkaTopic", "tidings.posts", "spec.partitions", "wrong type"}}},
		{"another Strimzi version",
			[]edit{{"topics.yaml", "", "apiVersion: kafka.strimzi.io/v1beta2", "apiVersion: kafka.strimzi.io/v1beta1"}},
			[]want{{"topics.yaml", "", "tidings.users", "kind", "unknown kind \"KafkaTopic\" with apiVersion \"kafka.strimzi.io/v1beta1\""}}},
	}
	runBroken(t, cases)
}

// The event contract publishes each topic's partitions and replicas
// (events/asyncapi.yaml, the channels' Kafka bindings); they are the
// KafkaTopics' own, so a change of one is a change of both.
func TestTheContractStatesTheTopicsAsDeclared(t *testing.T) {
	topo := loadShipped(t)
	raw, err := os.ReadFile("../../events/asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Channels map[string]struct {
			Bindings struct {
				Kafka struct {
					Topic      string `json:"topic"`
					Partitions int    `json:"partitions"`
					Replicas   int    `json:"replicas"`
				} `json:"kafka"`
			} `json:"bindings"`
		} `json:"channels"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Channels) == 0 {
		t.Fatal("asyncapi.yaml has no channels")
	}
	for name, ch := range doc.Channels {
		b := ch.Bindings.Kafka
		k := topo.KafkaTopic(b.Topic)
		if k == nil {
			t.Errorf("channel %s: no KafkaTopic declares %q", name, b.Topic)
			continue
		}
		if b.Partitions != k.Partitions || b.Replicas != k.Replicas {
			t.Errorf("channel %s: asyncapi.yaml says %d partitions, %d replicas; knative/topics.yaml says %d, %d",
				name, b.Partitions, b.Replicas, k.Partitions, k.Replicas)
		}
	}
}
