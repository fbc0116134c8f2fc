package kafkaconf

import (
	"fmt"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Our producers must put a key on the same partition as Kafka's own client
// does; franz-go's default keyed partitioner is documented to match Java's.
func TestKeysLandWhereKafkasOwnClientPutsThem(t *testing.T) {
	java := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	ours := KafkaPartitioner("t")
	for _, n := range []int{1, 3, 6, 7, 12} {
		for i := 0; i < 2000; i++ {
			key := fmt.Sprintf("user-%d-%x", i, i*7919)
			if i%100 == 0 {
				key = key[:i%len(key)] // short keys exercise every tail length
			}
			want := java.Partition(&kgo.Record{Key: []byte(key)}, n)
			got, err := ours.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(key)}, int32(n))
			if err != nil || int(got) != want {
				t.Fatalf("key %q over %d partitions: ours %d, Kafka's %d (%v)", key, n, got, want, err)
			}
		}
	}
}

func TestUnkeyedRecordsStayInRange(t *testing.T) {
	p := KafkaPartitioner("t")
	for i := 0; i < 200; i++ {
		got, err := p.Partition(&sarama.ProducerMessage{}, 5)
		if err != nil || got < 0 || got >= 5 {
			t.Fatalf("partition %d (%v)", got, err)
		}
	}
	if !p.RequiresConsistency() {
		t.Fatal("a keyed partitioner must be consistent")
	}
}
