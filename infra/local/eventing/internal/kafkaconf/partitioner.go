package kafkaconf

import (
	"math/rand/v2"

	"github.com/IBM/sarama"
)

// KafkaPartitioner places keyed records exactly where Kafka's Java client
// (and franz-go, librdkafka's murmur2 mode, the real KafkaSink receiver)
// would: murmur2 of the key, made positive, modulo the partition count.
// sarama's default hashes with FNV, which would put one user's events on a
// different partition than an outside producer's, and break per-user order.
// Records without a key go to a random partition.
func KafkaPartitioner(string) sarama.Partitioner { return kafkaPartitioner{} }

type kafkaPartitioner struct{}

func (kafkaPartitioner) Partition(m *sarama.ProducerMessage, n int32) (int32, error) {
	if m.Key == nil {
		return rand.Int32N(n), nil
	}
	key, err := m.Key.Encode()
	if err != nil {
		return -1, err
	}
	return int32(murmur2(key)&0x7fffffff) % n, nil
}

// RequiresConsistency: a key must map to the same partition even while that
// partition is unavailable, or order per key is lost.
func (kafkaPartitioner) RequiresConsistency() bool { return true }

// murmur2 is Kafka's variant (org.apache.kafka.common.utils.Utils.murmur2):
// seed 0x9747b28c, little-endian 4-byte blocks.
func murmur2(data []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	n := len(data)
	h := uint32(seed) ^ uint32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n&^3:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
