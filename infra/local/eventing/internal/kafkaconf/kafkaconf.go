// Package kafkaconf holds the sarama settings shared by the local Knative
// Kafka data plane, so the sink, the source and the dead-letter tools talk to
// Kafka the way Knative's data plane does (acks=all, idempotent producer,
// read_committed consumers, manual offset marking).
package kafkaconf

import (
	"time"

	"github.com/IBM/sarama"
)

// MaxRecordBytes is Knative's producer max.request.size, the largest record
// the data plane produces (eventing-kafka-broker
// data-plane/config/sink/100-config-kafka-sink-data-plane.yaml and
// data-plane/config/source/100-config-kafka-source-data-plane.yaml).
const MaxRecordBytes = 1 << 20

// Version is the Kafka protocol version spoken to the broker. The idempotent
// producer needs at least 0.11; 2.1 is the floor we promise.
var Version = sarama.V2_8_0_0

// Producer returns a config for a SyncProducer with Knative's producer
// guarantees: every in-sync replica acknowledges, the broker deduplicates
// retried batches, and retries are short so a dead broker is noticed in
// seconds rather than minutes.
func Producer(clientID string) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = clientID
	c.Version = Version
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Idempotent = true
	c.Producer.Partitioner = KafkaPartitioner
	c.Net.MaxOpenRequests = 1 // required by the idempotent producer
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Producer.Retry.Max = 3
	c.Producer.Retry.Backoff = 200 * time.Millisecond
	c.Producer.Timeout = 5 * time.Second
	c.Producer.MaxMessageBytes = MaxRecordBytes
	shortNetwork(c)
	return c
}

// Consumer returns a config for a consumer that commits only what the caller
// marks, reads only committed records, and starts at initial when the group
// has no committed offset (sarama.OffsetOldest or sarama.OffsetNewest).
func Consumer(clientID string, initial int64) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = clientID
	c.Version = Version
	c.Consumer.IsolationLevel = sarama.ReadCommitted
	c.Consumer.Offsets.Initial = initial
	// Auto-commit only flushes offsets the handler marked; marking happens
	// after success or dead-lettering, so this is Knative's manual commit.
	c.Consumer.Offsets.AutoCommit.Enable = true
	c.Consumer.Offsets.AutoCommit.Interval = time.Second
	c.Consumer.Return.Errors = true
	c.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	shortNetwork(c)
	return c
}

func shortNetwork(c *sarama.Config) {
	c.Net.DialTimeout = 2 * time.Second
	c.Net.ReadTimeout = 10 * time.Second
	c.Net.WriteTimeout = 5 * time.Second
	c.Metadata.Retry.Max = 2
	c.Metadata.Retry.Backoff = 200 * time.Millisecond
}
