// Package dlq is the operator's view of dead letters: for each KafkaSource in
// knative/, the dead-letter topic its deadLetterSink writes to, what is on it
// and why, and a replay back to the topic each event was read from.
//
// Dead-letter topics are not part of the event contract: anyone who can
// write to one could forge a letter. So replay sends back only what Tidings
// itself took in: a letter is replayed only when it names the source's
// subscriber as knativeerrordest (the extension the KafkaSource dispatcher
// adds), its event satisfies the contract, its type lives on a topic the
// source reads, and that topic still holds the very record (same source, id,
// type and data) the dispatcher failed to deliver. What is replayed is that
// original record, so nothing a forger added to a letter travels on. The
// limit: a letter whose original has left its topic (retention) cannot be
// told from a forgery and is skipped; and whoever can write to the source
// topics themselves needs no dead letter (the consumers' own checks and the
// Kafka ACLs are the guard there).
package dlq

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/infra/local/eventing/deadletter"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
	"github.com/tidings-dev/tidings/knative/topology"
)

// Source is a KafkaSource with a dead-letter topic.
type Source struct {
	Name      string
	Namespace string
	// Topics are where the events it delivers were first read from, and
	// where a replay sends them: what the source reads, or for a re-drive
	// (knative/sources.yaml, "Re-drive") what the source it re-drives reads.
	Topics   []string
	DLQTopic string // where its dead letters go
	// Redrives names the source whose dead letters this one reads ("" for a
	// source of contract topics).
	Redrives string
	// Subscriber is the Knative Service it delivers to ("" when its sink is
	// not a Service).
	Subscriber string
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
		s := Source{Name: ks.Name, Namespace: ks.Namespace, Topics: ks.Topics, DLQTopic: sink.Topic}
		if len(ks.Topics) == 1 {
			if from := topo.DeadLetteredInto(ks.Topics[0]); from != nil {
				s.Redrives, s.Topics = from.Name, from.Topics
			}
		}
		if svc := topo.ServiceFor(ks.Sink); svc != nil {
			s.Subscriber = svc.Name
		}
		out = append(out, s)
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
func List(ctx context.Context, topo *topology.Topology, brokers []string, auth kafkaauth.Credentials, source string) ([]Letters, error) {
	srcs, err := pick(topo, source)
	if err != nil {
		return nil, err
	}
	var out []Letters
	for _, s := range srcs {
		letters, err := deadletter.List(ctx, brokers, auth, s.DLQTopic)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.DLQTopic, err)
		}
		out = append(out, Letters{Source: s, Letters: letters})
	}
	return out, nil
}

// Skipped is a dead letter replay did not send, and why.
type Skipped struct {
	Letter deadletter.Letter
	Reason string
}

// Replayed is a dead letter whose original record was sent again, and where.
type Replayed struct {
	Letter deadletter.Letter
	Topic  string
}

// Report says what one replay did.
type Report struct {
	Source   Source
	Replayed []Replayed
	Skipped  []Skipped
}

// Replay sends the selected dead letters of one source (selectors: event
// ids, "<partition>:<offset>", or none for all) back to the topic each was
// read from, skipping and reporting every letter it cannot place or does
// not trust (see the package comment). A selector that matches nothing is an
// error; so is a failure to read or write Kafka, which says how many of the
// Replayed letters went out before it.
func Replay(ctx context.Context, topo *topology.Topology, brokers []string, auth kafkaauth.Credentials, source string, selectors []string) (Report, error) {
	if source == "" {
		return Report{}, fmt.Errorf("name the source to replay (--source), one of %v", names(Sources(topo)))
	}
	lists, err := List(ctx, topo, brokers, auth, source)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Source: lists[0].Source}
	chosen, err := deadletter.Select(lists[0].Letters, selectors...)
	if err != nil {
		return rep, err
	}
	originals := map[string][]deadletter.Letter{} // topic → its records, read once
	var send []deadletter.Letter
	for _, l := range chosen {
		topic, reason := place(rep.Source, l)
		if reason == "" {
			if _, read := originals[topic]; !read {
				if originals[topic], err = deadletter.List(ctx, brokers, auth, topic); err != nil {
					return rep, fmt.Errorf("reading %s to find the originals: %w", topic, err)
				}
			}
			var orig deadletter.Letter
			if orig, reason = original(originals[topic], topic, l.Event); reason == "" {
				rep.Replayed = append(rep.Replayed, Replayed{Letter: l, Topic: topic})
				send = append(send, orig)
				continue
			}
		}
		rep.Skipped = append(rep.Skipped, Skipped{Letter: l, Reason: reason})
	}
	// Every chosen type lives on one topic of the contract (place checked it).
	topicOf := func(e event.Event) string { t, _ := events.TopicOf(e.Type()); return t }
	if err := deadletter.Replay(ctx, brokers, auth, send, topicOf); err != nil {
		return rep, err
	}
	return rep, nil
}

// place checks what the letter itself shows and returns the topic its event
// was read from, or why it must not be replayed.
func place(src Source, l deadletter.Letter) (topic, reason string) {
	if l.DecodeErr != "" {
		return "", l.DecodeErr
	}
	if !isSubscriber(src, l.Dest) {
		return "", fmt.Sprintf("knativeerrordest %q is not %s's subscriber (Service %s): not a letter its dispatcher wrote", l.Dest, src.Name, src.Subscriber)
	}
	ev := l.Event.Clone()
	for _, name := range []string{kafkasource.ExtErrorDest, kafkasource.ExtErrorCode, kafkasource.ExtErrorData} {
		ev.SetExtension(name, nil)
	}
	if err := events.Validate(ev); err != nil {
		return "", "breaks the contract: " + err.Error()
	}
	topic, _ = events.TopicOf(ev.Type())
	for _, t := range src.Topics {
		if t == topic {
			return topic, ""
		}
	}
	return "", fmt.Sprintf("%s lives on %s, which %s does not read (it reads %s)", ev.Type(), topic, src.Name, strings.Join(src.Topics, ", "))
}

// isSubscriber reports whether dest, a letter's knativeerrordest, is the
// address of the source's subscriber: its Knative Service's cluster address
// (http://<name>.<namespace>.svc.<cluster domain>), or a loopback address,
// which is where the local stack runs every Service.
func isSubscriber(src Source, dest string) bool {
	u, err := url.Parse(dest)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || src.Subscriber == "" {
		return false
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	svc := src.Subscriber + "." + src.Namespace + ".svc"
	return host == svc || strings.HasPrefix(host, svc+".")
}

// original finds, among a topic's records, the one the letter's event is a
// copy of: same source, id and type, and the same data byte for byte.
func original(records []deadletter.Letter, topic string, ev event.Event) (deadletter.Letter, string) {
	for _, r := range records {
		if r.DecodeErr == "" && r.Event.ID() == ev.ID() && r.Event.Source() == ev.Source() &&
			r.Event.Type() == ev.Type() && bytes.Equal(r.Event.Data(), ev.Data()) {
			return r, ""
		}
	}
	return deadletter.Letter{}, fmt.Sprintf("%s holds no record with source %s and id %s and this data: not an event Tidings took in (or retention removed it)", topic, ev.Source(), ev.ID())
}

func names(srcs []Source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.Name
	}
	return out
}
