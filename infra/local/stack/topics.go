package stack

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/knative/topology"
)

// createTopics makes the Kafka at brokers hold every KafkaTopic of the
// manifests, as Strimzi's Topic Operator does on a cluster: a missing topic is
// created with its partitions and config, an existing one with fewer partitions
// grows, and one with more is left as it is: partitions never shrink, and Strimzi
// refuses to shrink them too (strimzi/strimzi-kafka-operator,
// topic-operator/src/main/java/io/strimzi/operator/topic/BatchingTopicController.java).
// It returns one line per topic it changed or could not match, for the person
// watching.
//
// The replication factor is capped at the number of brokers (the local broker is
// one), and min.insync.replicas at that factor, so acks=all still succeeds.
func createTopics(ctx context.Context, brokers []string, admin kafkaauth.Credentials, topics []*topology.KafkaTopic) ([]string, error) {
	cl, err := adminClient(brokers, admin)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("kafka brokers: %w", err)
	}
	names := make([]string, len(topics))
	for i, k := range topics {
		names[i] = k.Topic
	}
	existing, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}

	var said []string
	var errs []error
	for _, k := range topics {
		if have, ok := existing[k.Topic]; ok && have.Err == nil {
			n := len(have.Partitions)
			switch {
			case n < k.Partitions:
				if _, err := adm.UpdatePartitions(ctx, k.Partitions, k.Topic); err != nil {
					errs = append(errs, fmt.Errorf("grow topic %s to %d partitions: %w", k.Topic, k.Partitions, err))
					continue
				}
				said = append(said, fmt.Sprintf("topic %s: grew from %d to %d partitions", k.Topic, n, k.Partitions))
			case n > k.Partitions:
				said = append(said, fmt.Sprintf("topic %s has %d partitions, more than the %d of KafkaTopic %s; partitions never shrink, so it stays", k.Topic, n, k.Partitions, k.Name))
			}
			continue
		}
		rf := min(k.Replicas, len(meta.Brokers))
		config := map[string]*string{}
		for key, v := range k.Config {
			if key == "min.insync.replicas" {
				if isr, err := strconv.Atoi(v); err == nil && isr > rf {
					v = strconv.Itoa(rf)
				}
			}
			config[key] = &v
		}
		resp, err := adm.CreateTopic(ctx, int32(k.Partitions), int16(rf), config, k.Topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("create topic %s: %w", k.Topic, err))
			continue
		}
		said = append(said, fmt.Sprintf("topic %s: created, %d partitions, %d replicas", k.Topic, k.Partitions, rf))
	}
	return said, errors.Join(errs...)
}
