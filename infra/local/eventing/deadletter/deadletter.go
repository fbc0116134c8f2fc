// Package deadletter lists the events a KafkaSource dead-lettered into a
// dead-letter topic (through a KafkaSink, so binary-mode CloudEvents with
// Knative's knativeerror* extensions), and replays chosen ones to the topic
// they came from.
package deadletter

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/tidings-dev/tidings/infra/local/eventing/internal/kafkaconf"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
)

// idleLimit ends a partition read that makes no progress for this long
// (for example when the high-water mark sits behind a transaction marker).
const idleLimit = 5 * time.Second

// Letter is one record of a dead-letter topic.
type Letter struct {
	Partition int32
	Offset    int64
	Key       string
	Time      time.Time // the record's timestamp: when it was dead-lettered
	// Event is the dead-lettered CloudEvent, error extensions included.
	Event event.Event
	// Reason is knativeerrordata decoded: the start of the subscriber's
	// response body (empty when no response arrived).
	Reason string
	// Code is knativeerrorcode: the subscriber's last HTTP status, 0 when
	// there was no response (connection error or timeout).
	Code int
	// Dest is knativeerrordest: the subscriber URL that failed.
	Dest string
	// DecodeErr is set when the record is not a CloudEvent; such a letter
	// cannot be replayed.
	DecodeErr string
}

// Ref names a letter in a way a person can type: "<partition>:<offset>".
func (l Letter) Ref() string { return fmt.Sprintf("%d:%d", l.Partition, l.Offset) }

// List reads topic from the start of every partition up to the high-water
// mark seen when it started, without joining a consumer group or committing
// anything. A topic that does not exist has no letters.
func List(ctx context.Context, brokers []string, auth kafkaauth.Credentials, topic string) ([]Letter, error) {
	cfg := kafkaconf.Consumer("tidings-deadletter-list", sarama.OffsetOldest)
	cfg.Metadata.AllowAutoTopicCreation = false // listing must not create the topic
	if err := auth.Sarama(cfg); err != nil {
		return nil, err
	}
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("deadletter: connecting to Kafka %v: %w", brokers, err)
	}
	defer client.Close()
	partitions, err := client.Partitions(topic)
	if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: partitions of %s: %w", topic, err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, fmt.Errorf("deadletter: %w", err)
	}
	defer consumer.Close()

	var letters []Letter
	for _, p := range partitions {
		got, err := readPartition(ctx, client, consumer, topic, p)
		if err != nil {
			return letters, err
		}
		letters = append(letters, got...)
	}
	sort.SliceStable(letters, func(i, j int) bool { return letters[i].Time.Before(letters[j].Time) })
	return letters, nil
}

func readPartition(ctx context.Context, client sarama.Client, consumer sarama.Consumer, topic string, p int32) ([]Letter, error) {
	oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
	if err != nil {
		return nil, fmt.Errorf("deadletter: oldest offset of %s/%d: %w", topic, p, err)
	}
	end, err := client.GetOffset(topic, p, sarama.OffsetNewest)
	if err != nil {
		return nil, fmt.Errorf("deadletter: high-water mark of %s/%d: %w", topic, p, err)
	}
	if oldest >= end {
		return nil, nil
	}
	pc, err := consumer.ConsumePartition(topic, p, oldest)
	if err != nil {
		return nil, fmt.Errorf("deadletter: reading %s/%d: %w", topic, p, err)
	}
	defer pc.Close()

	var letters []Letter
	idle := time.NewTimer(idleLimit)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return letters, ctx.Err()
		case err := <-pc.Errors():
			return letters, fmt.Errorf("deadletter: reading %s/%d: %w", topic, p, err)
		case <-idle.C:
			return letters, nil
		case m := <-pc.Messages():
			letters = append(letters, decode(m))
			if m.Offset >= end-1 {
				return letters, nil
			}
			idle.Reset(idleLimit)
		}
	}
}

func decode(m *sarama.ConsumerMessage) Letter {
	l := Letter{Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Time: m.Timestamp}
	headers := make(map[string][]byte, len(m.Headers))
	contentType := ""
	for _, h := range m.Headers {
		k := strings.ToLower(string(h.Key))
		if k == "content-type" {
			contentType = string(h.Value)
		}
		headers[k] = h.Value
	}
	// NewMessage (unlike NewMessageFromConsumerMessage) adds no kafka*
	// extensions, so a replayed event is the event that was dead-lettered.
	ev, err := binding.ToEvent(context.Background(), kafka_sarama.NewMessage(m.Value, contentType, headers))
	if err != nil {
		l.DecodeErr = "not a CloudEvent: " + err.Error()
		return l
	}
	l.Event = *ev
	ext := ev.Extensions()
	l.Dest = extString(ext, kafkasource.ExtErrorDest)
	l.Code, _ = strconv.Atoi(extString(ext, kafkasource.ExtErrorCode))
	if data := extString(ext, kafkasource.ExtErrorData); data != "" {
		if raw, err := base64.StdEncoding.DecodeString(data); err == nil {
			l.Reason = string(raw)
		} else {
			l.Reason = data
		}
	}
	return l
}

func extString(ext map[string]any, name string) string {
	v, ok := ext[name]
	if !ok {
		return ""
	}
	s, err := types.Format(v)
	if err != nil {
		return ""
	}
	return s
}

// Select picks letters by selector: an event id, or "<partition>:<offset>".
// No selectors (or "all") picks every letter. A selector that matches
// nothing is an error, so a mistyped id is not silently skipped.
func Select(letters []Letter, selectors ...string) ([]Letter, error) {
	if len(selectors) == 0 || (len(selectors) == 1 && selectors[0] == "all") {
		return letters, nil
	}
	var out []Letter
	for _, sel := range selectors {
		found := false
		for _, l := range letters {
			if sel == l.Ref() || (l.DecodeErr == "" && sel == l.Event.ID()) {
				out = append(out, l)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("deadletter: no letter matches %q (use an event id or partition:offset)", sel)
		}
	}
	return out, nil
}

// TopicByType returns a targetTopic function for Replay that maps an event
// type to its topic, for dead-letter topics fed by several topics.
func TopicByType(topics map[string]string) func(event.Event) string {
	return func(e event.Event) string { return topics[e.Type()] }
}

// Replay produces each letter's event, without the knativeerror*
// extensions, to targetTopic(event) in binary mode. The id and source are
// kept, so consumers that deduplicate on them still do; the record key is
// the partitionkey extension (else the letter's key). It stops at the first
// failure and says how many were replayed.
func Replay(ctx context.Context, brokers []string, auth kafkaauth.Credentials, letters []Letter, targetTopic func(event.Event) string) error {
	if len(letters) == 0 {
		return nil
	}
	msgs := make([]*sarama.ProducerMessage, 0, len(letters))
	for _, l := range letters {
		msg, err := replayMessage(ctx, l, targetTopic)
		if err != nil {
			return err
		}
		msgs = append(msgs, msg)
	}
	cfg := kafkaconf.Producer("tidings-deadletter-replay")
	if err := auth.Sarama(cfg); err != nil {
		return err
	}
	producer, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		return fmt.Errorf("deadletter: connecting to Kafka %v: %w", brokers, err)
	}
	defer producer.Close()
	for i, msg := range msgs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("deadletter: replayed %d of %d: %w", i, len(msgs), err)
		}
		if _, _, err := producer.SendMessage(msg); err != nil {
			return fmt.Errorf("deadletter: replayed %d of %d; letter %s to %s: %w", i, len(msgs), letters[i].Ref(), msg.Topic, err)
		}
	}
	return nil
}

func replayMessage(ctx context.Context, l Letter, targetTopic func(event.Event) string) (*sarama.ProducerMessage, error) {
	if l.DecodeErr != "" {
		return nil, fmt.Errorf("deadletter: letter %s cannot be replayed: %s", l.Ref(), l.DecodeErr)
	}
	ev := l.Event.Clone()
	for _, name := range []string{kafkasource.ExtErrorDest, kafkasource.ExtErrorCode, kafkasource.ExtErrorData} {
		ev.SetExtension(name, nil)
	}
	topic := targetTopic(ev)
	if topic == "" {
		return nil, fmt.Errorf("deadletter: no target topic for letter %s (type %s)", l.Ref(), ev.Type())
	}
	msg := &sarama.ProducerMessage{Topic: topic}
	if err := kafka_sarama.WriteProducerMessage(binding.WithForceBinary(ctx), binding.ToMessage(&ev), msg); err != nil {
		return nil, fmt.Errorf("deadletter: encoding letter %s: %w", l.Ref(), err)
	}
	if msg.Key == nil && l.Key != "" {
		msg.Key = sarama.StringEncoder(l.Key)
	}
	return msg, nil
}
