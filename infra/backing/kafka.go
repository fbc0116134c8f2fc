package backing

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KafkaPartitions is how many partitions an auto-created topic gets. A few
// are enough to show per-key ordering without slowing group rebalances.
const KafkaPartitions = 3

// Kafka is an embedded kfake broker speaking the Kafka wire protocol.
type Kafka struct {
	cluster *kfake.Cluster
}

// StartKafka starts a single-broker kfake cluster on addr (a loopback
// host:port; port 0 picks a free one). Topics are created on first use
// (sarama asks for auto-creation in its metadata requests), and consumer
// groups, idempotent producers and transactions work as on a real broker.
// With a non-empty dataDir, topics, records and committed offsets are kept
// there across restarts; an empty dataDir keeps everything in memory.
//
// With KafkaSuperuser, the broker takes only authenticated clients
// (SASL SCRAM-SHA-512) and checks every request against its ACLs, as a
// Strimzi listener with authentication and simple authorization does; the
// superuser bypasses the ACLs and creates the other users and their ACLs.
func StartKafka(ctx context.Context, dataDir, addr string, progress Progress, opts ...KafkaOption) (*Kafka, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafka: bad address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("kafka: bad port in %q", addr)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	var o kafkaOptions
	for _, opt := range opts {
		opt(&o)
	}
	kopts := []kfake.Opt{
		kfake.Ports(port),
		// kfake always asks for 127.0.0.1:<port>; honour the host we were given.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(KafkaPartitions),
		kfake.ClusterID("tidings-local"),
		kfake.WithLogger(slogKafkaLogger{}),
	}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("kafka: create data dir: %w", err)
		}
		kopts = append(kopts, kfake.DataDir(dataDir))
	}
	if o.superuser != "" {
		// A restarted broker takes its SCRAM users from its data dir, so the
		// superuser's password must stay the same across restarts.
		kopts = append(kopts, kfake.EnableSASL(), kfake.EnableACLs(), kfake.Superuser("SCRAM-SHA-512", o.superuser, o.password))
	}
	progress.say("kafka: starting embedded broker (kfake) on " + addr)
	cluster, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: start kfake on %s: %w", addr, err)
	}
	k := &Kafka{cluster: cluster}
	if o.superuser != "" {
		if err := advertiseSASLHandshakeV0(ctx, cluster); err != nil {
			cluster.Close()
			return nil, fmt.Errorf("kafka: %w", err)
		}
	}
	progress.say("kafka: ready on " + k.Brokers()[0])
	return k, nil
}

// advertiseSASLHandshakeV0 makes the broker's ApiVersions answer list
// SaslHandshake as versions 0–1, as Kafka does (apache/kafka
// clients/src/main/resources/common/message/SaslHandshakeRequest.json); kfake
// serves and lists v1 only (kfake 17_sasl_handshake.go), and librdkafka (kcat)
// then takes SASL as unsupported. Clients that can authenticate with
// SaslAuthenticate (every current one: librdkafka, sarama, franz-go) send v1,
// which kfake serves. The answer is kfake's own, taken once at start, with
// only that range changed.
func advertiseSASLHandshakeV0(ctx context.Context, cluster *kfake.Cluster) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	own, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("ApiVersions: %w", err)
	}
	keys := slices.Clone(own.ApiKeys)
	for i := range keys {
		if keys[i].ApiKey == int16(kmsg.SASLHandshake) {
			keys[i].MinVersion = 0
		}
	}
	cluster.ControlKey(int16(kmsg.ApiVersions), func(r kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		req, ok := r.(*kmsg.ApiVersionsRequest)
		if !ok || req.Version > own.Version || req.Version < 3 {
			return nil, nil, false // kfake answers downgrades and old clients itself
		}
		resp := *own
		resp.Version = req.Version
		resp.ApiKeys = keys
		return &resp, nil, true
	})
	return nil
}

// KafkaOption configures StartKafka.
type KafkaOption func(*kafkaOptions)

type kafkaOptions struct{ superuser, password string }

// KafkaSuperuser turns on SASL SCRAM-SHA-512 and ACLs, with user as the one
// superuser.
func KafkaSuperuser(user, password string) KafkaOption {
	return func(o *kafkaOptions) { o.superuser, o.password = user, password }
}

// Brokers returns the bootstrap addresses to give Kafka clients.
func (k *Kafka) Brokers() []string { return k.cluster.ListenAddrs() }

// Cluster exposes the kfake cluster, for tests and tools that inspect it.
func (k *Kafka) Cluster() *kfake.Cluster { return k.cluster }

// Stop closes the broker; with a data dir, its state is flushed to disk.
func (k *Kafka) Stop(ctx context.Context) error {
	done := make(chan struct{})
	go func() { k.cluster.Close(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kafka: stop: %w", ctx.Err())
	}
}

// slogKafkaLogger forwards kfake's warnings and errors to slog; its debug
// and info chatter is per request and would drown everything else.
type slogKafkaLogger struct{}

func (slogKafkaLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		slog.Error("kafka: "+fmt.Sprintf(msg, args...), "component", "kfake")
	case kfake.LogLevelWarn:
		slog.Warn("kafka: "+fmt.Sprintf(msg, args...), "component", "kfake")
	}
}
