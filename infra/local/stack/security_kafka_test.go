package stack_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
)

// The Secrets of knative/kafkausers.yaml's users that the cases act as.
const (
	sinkSecret    = "knative-kafkasink-auth"
	notifySecret  = "kafkasource-notify-auth"
	welcomeSecret = "kafkasource-welcome-auth"
)

// kafkaClient is a franz-go client of the stack's broker acting as c, giving
// up within seconds so a refusal is observed rather than waited out.
func (s *security) kafkaClient(t *testing.T, c kafkaauth.Credentials, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	auth, err := c.Franz()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(append(auth, kgo.SeedBrokers(s.w.kafkaAt), kgo.RecordDeliveryTimeout(5*time.Second),
		kgo.RetryTimeout(5*time.Second), kgo.DialTimeout(2*time.Second)), opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// kafkaErr names a Kafka error the way the broker does (TOPIC_AUTHORIZATION_FAILED).
func kafkaErr(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	if err == nil {
		return "accepted"
	}
	return err.Error()
}

// kafka: a client that reaches the broker still needs a user, and a user may
// do only what its ACLs allow (knative/kafkausers.yaml), as on a cluster.
func (s *security) kafka(t *testing.T) {
	record := func() *kgo.Record {
		id := "0b6f1c2e-8d3a-4c5b-9e7f-" + fmt.Sprintf("%012d", time.Now().UnixNano()%1e12)
		return &kgo.Record{Topic: events.TopicUsers, Key: []byte(id), Value: []byte(`{"userId":"` + id + `"}`)}
	}
	produce := func(t *testing.T, c kafkaauth.Credentials) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return s.kafkaClient(t, c).ProduceSync(ctx, record()).FirstErr()
	}

	t.Run("no credentials", func(t *testing.T) {
		err := produce(t, kafkaauth.Credentials{})
		s.r.record(t, verdict{name: "record produced to tidings.users with no Kafka credentials", expected: "refused (the broker takes only SASL clients)",
			observed: kafkaErr(err), ok: err != nil})
	})
	t.Run("wrong password", func(t *testing.T) {
		c := s.w.KafkaCredentials(sinkSecret)
		c.Password = "guess"
		err := produce(t, c)
		// Kafka answers SASL_AUTHENTICATION_FAILED; kfake closes the connection
		// (kfake 36_sasl_authenticate.go). Either way nothing is produced, and
		// the same user with its own password is accepted (below).
		s.r.record(t, verdict{name: "record produced to tidings.users as the KafkaSink receiver's user with a wrong password", expected: "refused at authentication",
			observed: kafkaErr(err), ok: err != nil})
	})
	t.Run("another principal's credentials", func(t *testing.T) {
		err := produce(t, s.w.KafkaCredentials(notifySecret))
		s.r.record(t, verdict{name: "record produced to tidings.users as notify's KafkaSource dispatcher (kafkasource-notify)", expected: "refused: TOPIC_AUTHORIZATION_FAILED",
			observed: kafkaErr(err), ok: errors.Is(err, kerr.TopicAuthorizationFailed)})
	})
	t.Run("the receiver's own user", func(t *testing.T) {
		err := produce(t, s.w.KafkaCredentials(sinkSecret))
		s.r.record(t, verdict{name: "record produced to tidings.users as the KafkaSink receiver (knative-kafkasink)", expected: "accepted (its ACL: Write on the sinks' topics)",
			observed: kafkaErr(err), ok: err == nil})
	})

	offsets := func(t *testing.T, c kafkaauth.Credentials, group string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := kadm.NewClient(s.kafkaClient(t, c)).FetchOffsets(ctx, group)
		if err == nil {
			err = resp.Error()
		}
		return err
	}
	t.Run("a consumer group it does not own", func(t *testing.T) {
		err := offsets(t, s.w.KafkaCredentials(welcomeSecret), "tidings-notify")
		own := offsets(t, s.w.KafkaCredentials(notifySecret), "tidings-notify")
		s.r.record(t, verdict{name: "offsets of consumer group tidings-notify read as welcome's dispatcher, then as notify's", expected: "GROUP_AUTHORIZATION_FAILED, then accepted",
			observed: kafkaErr(err) + ", then " + kafkaErr(own), ok: errors.Is(err, kerr.GroupAuthorizationFailed) && own == nil})
	})
	t.Run("joining a consumer group it does not own", func(t *testing.T) {
		cl := s.kafkaClient(t, s.w.KafkaCredentials(welcomeSecret), kgo.ConsumerGroup("tidings-notify"), kgo.ConsumeTopics(events.TopicUsers))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		for err == nil && ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			for _, fe := range fs.Errors() {
				if !errors.Is(fe.Err, context.DeadlineExceeded) {
					err = fe.Err
				}
			}
			if fs.NumRecords() > 0 {
				err = errors.New("records delivered")
			}
		}
		s.r.record(t, verdict{name: "consumer group tidings-notify joined as welcome's dispatcher, reading tidings.users (which it may read)", expected: "refused: GROUP_AUTHORIZATION_FAILED, no records",
			observed: kafkaErr(err), ok: errors.Is(err, kerr.GroupAuthorizationFailed)})
	})
}
