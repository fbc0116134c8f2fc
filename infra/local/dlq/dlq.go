// Package dlq is the operator's view of dead letters: for each KafkaSource in
// knative/, the dead-letter topic its deadLetterSink writes to, what is on it
// and why, and a replay back to the topic each event came from.
package dlq

import (
	"context"
	"fmt"
	"sort"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/infra/local/eventing/deadletter"
	"github.com/tidings-dev/tidings/knative/topology"
)

// Source is a KafkaSource with a dead-letter topic.
type Source struct {
	Name     string
	Topics   []string // what it reads
	DLQTopic string   // where its dead letters go
}

// Sources lists the KafkaSources that dead-letter into a KafkaSink, by name.
func Sources(topo *topology.Topology) []Source {
	var out []Source
	for _, ks := range topo.KafkaSources {
		if ks.Delivery.DeadLetterSink == nil {
			continue
		}
		sink := topo.KafkaSinkFor(*ks.Delivery.DeadLetterSink)
		if sink == nil {
			continue
		}
		out = append(out, Source{Name: ks.Name, Topics: ks.Topics, DLQTopic: sink.Topic})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// pick returns the named source, or all of them for "".
func pick(topo *topology.Topology, name string) ([]Source, error) {
	all := Sources(topo)
	if name == "" {
		return all, nil
	}
	for _, s := range all {
		if s.Name == name {
			return []Source{s}, nil
		}
	}
	return nil, fmt.Errorf("no KafkaSource %q with a dead-letter sink in knative/", name)
}

// Letters are one source's dead letters.
type Letters struct {
	Source  Source
	Letters []deadletter.Letter
}

// List reads the dead-letter topics of the named source ("" for all).
func List(ctx context.Context, topo *topology.Topology, brokers []string, source string) ([]Letters, error) {
	srcs, err := pick(topo, source)
	if err != nil {
		return nil, err
	}
	var out []Letters
	for _, s := range srcs {
		letters, err := deadletter.List(ctx, brokers, s.DLQTopic)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.DLQTopic, err)
		}
		out = append(out, Letters{Source: s, Letters: letters})
	}
	return out, nil
}

// Replay sends the selected dead letters of one source (selectors: event
// ids, "<partition>:<offset>", or none for all) back to their topics, and
// returns how many it replayed.
func Replay(ctx context.Context, topo *topology.Topology, brokers []string, source string, selectors []string) (int, error) {
	if source == "" {
		return 0, fmt.Errorf("name the source to replay (--source), one of %v", names(Sources(topo)))
	}
	lists, err := List(ctx, topo, brokers, source)
	if err != nil {
		return 0, err
	}
	src := lists[0].Source
	chosen, err := deadletter.Select(lists[0].Letters, selectors...)
	if err != nil {
		return 0, err
	}
	for _, l := range chosen {
		if l.DecodeErr != "" {
			return 0, fmt.Errorf("letter %s is not a CloudEvent and cannot be replayed: %s", l.Ref(), l.DecodeErr)
		}
		if _, err := topicOf(src, l.Event); err != nil {
			return 0, err
		}
	}
	target := func(e event.Event) string { t, _ := topicOf(src, e); return t }
	if err := deadletter.Replay(ctx, brokers, chosen, target); err != nil {
		return 0, err
	}
	return len(chosen), nil
}

// topicOf is where an event came from: the contract's topic for its type, or
// the source's only topic for events outside the contract.
func topicOf(src Source, e event.Event) (string, error) {
	if t, ok := events.TopicOf(e.Type()); ok {
		for _, st := range src.Topics {
			if st == t {
				return t, nil
			}
		}
	}
	if len(src.Topics) == 1 {
		return src.Topics[0], nil
	}
	return "", fmt.Errorf("cannot tell which of %v event %s (%s) came from", src.Topics, e.ID(), e.Type())
}

func names(srcs []Source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.Name
	}
	return out
}
