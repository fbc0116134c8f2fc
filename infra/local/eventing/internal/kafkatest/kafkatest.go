// Package kafkatest runs an in-process kfake Kafka broker on 127.0.0.1 for the
// eventing tests, and reads topics back with franz-go (a client other than
// the sarama code under test).
package kafkatest

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker is a one-node kfake cluster that can be stopped and started again on
// the same port, to simulate Kafka going away and coming back.
type Broker struct {
	t       testing.TB
	port    int
	opts    []kfake.Opt
	cluster *kfake.Cluster
}

// Start starts a broker on a free port with auto topic creation, plus the
// given topics created with partitions partitions each.
func Start(t testing.TB, partitions int32, topics ...string) *Broker {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(int(partitions))}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	b := &Broker{t: t, opts: opts}
	b.start(0)
	t.Cleanup(b.Stop)
	return b
}

func (b *Broker) start(port int) {
	b.t.Helper()
	c, err := kfake.NewCluster(append(b.opts, kfake.Ports(port))...)
	if err != nil {
		b.t.Fatalf("starting kfake on port %d: %v", port, err)
	}
	b.cluster = c
	_, p, err := net.SplitHostPort(c.ListenAddrs()[0])
	if err != nil {
		b.t.Fatal(err)
	}
	b.port, _ = strconv.Atoi(p)
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// Brokers is Addr as a bootstrap list.
func (b *Broker) Brokers() []string { return []string{b.Addr()} }

// Cluster is the running kfake cluster (nil while stopped).
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Stop shuts the broker down; its data is lost.
func (b *Broker) Stop() {
	if b.cluster != nil {
		b.cluster.Close()
		b.cluster = nil
	}
}

// Restart starts a fresh, empty broker on the same port, retrying while the
// old listener's port is still being released.
func (b *Broker) Restart() {
	b.t.Helper()
	b.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := kfake.NewCluster(append(b.opts, kfake.Ports(b.port))...)
		if err == nil {
			b.cluster = c
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("restarting kfake on port %d: %v", b.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Client returns a franz-go client for the broker, closed at test end.
func (b *Broker) Client(opts ...kgo.Opt) *kgo.Client {
	b.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr())}, opts...)...)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(cl.Close)
	return cl
}

// Produce writes one record and waits for the acknowledgement.
func (b *Broker) Produce(ctx context.Context, r *kgo.Record) {
	b.t.Helper()
	cl := b.Client()
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		b.t.Fatalf("producing to %s: %v", r.Topic, err)
	}
}

// Read consumes topic from the start until it has n records or the deadline
// passes; it fails the test with what it got when short.
func (b *Broker) Read(topic string, n int, within time.Duration) []*kgo.Record {
	b.t.Helper()
	cl := b.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.t.Fatalf("read %d of %d records from %s before the deadline", len(got), n, topic)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, r) })
	}
	return got
}

// Header returns the value of the record header key, and whether it exists.
func Header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}
