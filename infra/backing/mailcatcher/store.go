package mailcatcher

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// store keeps messages in memory, oldest first, and mirrors them to a
// JSON-lines file so a restart shows the same mailbox.
type store struct {
	mu      sync.RWMutex
	msgs    []Message
	file    *os.File // nil when there is no data dir
	changed chan struct{}
}

const storeFile = "messages.jsonl"

func openStore(dataDir string) (*store, error) {
	s := &store{changed: make(chan struct{})}
	if dataDir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dataDir, storeFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.load(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	s.file = f
	return s, nil
}

// load reads every complete line; a torn last line (a crash mid-write) or
// a corrupt one is skipped with a warning rather than losing the rest.
func (s *store) load(f *os.File) error {
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var m Message
			if jerr := json.Unmarshal(line, &m); jerr != nil {
				slog.Warn("mailcatcher: skipping unreadable stored message", "line", n, "err", jerr)
			} else {
				s.msgs = append(s.msgs, m)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *store) add(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		line, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if _, err := s.file.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("append to store: %w", err)
		}
	}
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

// newestFirst returns a copy of the messages, newest first, and a channel
// closed on the next change.
func (s *store) newestFirst() ([]Message, <-chan struct{}) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Message, len(s.msgs))
	for i, m := range s.msgs {
		out[len(s.msgs)-1-i] = m
	}
	return out, s.changed
}

func (s *store) get(id string) (Message, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id == "latest" && len(s.msgs) > 0 {
		return s.msgs[len(s.msgs)-1], true
	}
	for _, m := range s.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// remove deletes the given IDs, or everything when ids is empty, and
// rewrites the file to match. It returns how many messages went away.
func (s *store) remove(ids []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := len(s.msgs)
	if len(ids) == 0 {
		s.msgs = nil
	} else {
		drop := make(map[string]bool, len(ids))
		for _, id := range ids {
			drop[id] = true
		}
		kept := s.msgs[:0:0]
		for _, m := range s.msgs {
			if !drop[m.ID] {
				kept = append(kept, m)
			}
		}
		s.msgs = kept
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return before - len(s.msgs), s.rewrite()
}

func (s *store) rewrite() error {
	if s.file == nil {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode adds the newline
	for _, m := range s.msgs {
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	if err := s.file.Truncate(0); err != nil {
		return fmt.Errorf("truncate store: %w", err)
	}
	// O_APPEND writes go to the (new) end regardless of the offset.
	if _, err := s.file.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("rewrite store: %w", err)
	}
	return nil
}

func (s *store) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}
