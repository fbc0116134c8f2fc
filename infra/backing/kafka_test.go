package backing

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_1_0_0
	cfg.ClientID = "backing-test"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 5
	cfg.Net.MaxOpenRequests = 1
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	return cfg
}

func startTestKafka(t *testing.T, dataDir string) *Kafka {
	t.Helper()
	k, err := StartKafka(context.Background(), dataDir, "127.0.0.1:0", func(m string) { t.Log(m) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop(context.Background()) })
	return k
}

func produce(t *testing.T, brokers []string, topic string, msgs map[string]string) {
	t.Helper()
	p, err := sarama.NewSyncProducer(brokers, saramaConfig())
	if err != nil {
		t.Fatalf("idempotent sync producer: %v", err)
	}
	defer p.Close()
	for key, val := range msgs {
		_, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.StringEncoder(val)})
		if err != nil {
			t.Fatalf("send %s: %v", key, err)
		}
	}
}

// collector is a sarama consumer-group handler that records values and
// marks each message so offsets get committed.
type collector struct {
	mu   sync.Mutex
	seen map[string]string
	want int
	full chan struct{}
	once sync.Once
}

func newCollector(want int) *collector {
	return &collector{seen: map[string]string{}, want: want, full: make(chan struct{})}
}

func (c *collector) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (c *collector) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (c *collector) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		c.mu.Lock()
		c.seen[string(m.Key)] = string(m.Value)
		n := len(c.seen)
		c.mu.Unlock()
		s.MarkMessage(m, "")
		s.Commit()
		if n >= c.want {
			c.once.Do(func() { close(c.full) })
		}
	}
	return nil
}

// consumeGroup reads with a consumer group until want distinct keys arrived.
func consumeGroup(t *testing.T, brokers []string, group, topic string, want int) map[string]string {
	t.Helper()
	cg, err := sarama.NewConsumerGroup(brokers, group, saramaConfig())
	if err != nil {
		t.Fatalf("consumer group: %v", err)
	}
	defer cg.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newCollector(want)
	errc := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, h); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				errc <- err
				return
			}
		}
	}()
	select {
	case <-h.full:
	case err := <-errc:
		t.Fatalf("consume: %v", err)
	case <-time.After(60 * time.Second):
		h.mu.Lock()
		defer h.mu.Unlock()
		t.Fatalf("consumer group got %d of %d messages", len(h.seen), want)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]string, len(h.seen))
	for k, v := range h.seen {
		out[k] = v
	}
	return out
}

func TestKafkaIdempotentProducerAndConsumerGroup(t *testing.T) {
	k := startTestKafka(t, "")
	brokers := k.Brokers()
	if len(brokers) != 1 || !strings.HasPrefix(brokers[0], "127.0.0.1:") {
		t.Fatalf("brokers = %v, want one loopback address", brokers)
	}
	msgs := map[string]string{}
	for i := range 20 {
		msgs[fmt.Sprintf("user-%d", i)] = fmt.Sprintf("hello %d", i)
	}
	// Count InitProducerID requests to prove sarama really took the
	// idempotent path (it asks for a producer id before its first send).
	var pidMu sync.Mutex
	pidRequests := 0
	k.Cluster().ControlKey(int16(kmsg.InitProducerID), func(kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster().KeepControl()
		pidMu.Lock()
		pidRequests++
		pidMu.Unlock()
		return nil, nil, false
	})
	// The topic does not exist yet: the producer's metadata request creates it.
	produce(t, brokers, "tidings.test", msgs)
	pidMu.Lock()
	if pidRequests == 0 {
		t.Error("producer never asked for a producer id: it was not idempotent")
	}
	pidMu.Unlock()
	if info := k.Cluster().TopicInfo("tidings.test"); info == nil {
		t.Fatal("topic was not auto-created")
	}
	if got := len(k.Cluster().PartitionInfos("tidings.test")); got != KafkaPartitions {
		t.Fatalf("auto-created topic has %d partitions, want %d", got, KafkaPartitions)
	}
	got := consumeGroup(t, brokers, "g1", "tidings.test", len(msgs))
	for key, val := range msgs {
		if got[key] != val {
			t.Errorf("key %s: got %q, want %q", key, got[key], val)
		}
	}
}

func TestKafkaKeepsRecordsAndOffsetsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	k1, err := StartKafka(context.Background(), dir, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	produce(t, k1.Brokers(), "tidings.persist", map[string]string{"a": "1", "b": "2"})
	consumeGroup(t, k1.Brokers(), "g-persist", "tidings.persist", 2)
	if err := k1.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	k2 := startTestKafka(t, dir)
	if k2.Cluster().TopicInfo("tidings.persist") == nil {
		t.Fatal("topic lost across restart")
	}
	// A new group sees the old records; the old group resumes after them.
	got := consumeGroup(t, k2.Brokers(), "g-fresh", "tidings.persist", 2)
	if got["a"] != "1" || got["b"] != "2" {
		t.Fatalf("records after restart = %v", got)
	}
	produce(t, k2.Brokers(), "tidings.persist", map[string]string{"c": "3"})
	resumed := consumeGroup(t, k2.Brokers(), "g-persist", "tidings.persist", 1)
	if len(resumed) != 1 || resumed["c"] != "3" {
		t.Fatalf("old group should resume after its committed offsets and see only c, got %v", resumed)
	}
}

func TestKafkaBadAddressAndBusyPort(t *testing.T) {
	if _, err := StartKafka(context.Background(), "", "no-port", nil); err == nil {
		t.Fatal("want error for address without port")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := StartKafka(context.Background(), "", ln.Addr().String(), nil); err == nil {
		t.Fatal("want error when the port is taken")
	}
}
