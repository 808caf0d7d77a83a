package fuseunion

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// meta is what the container sees of an upper entry that the host file
// cannot hold: the server runs as one unprivileged host user and never
// chowns, cannot mknod devices and cannot set trusted./security. xattrs.
type meta struct {
	Uid    uint32            `json:"u"`
	Gid    uint32            `json:"g"`
	Mode   uint32            `json:"m"` // S_IFMT | 07777
	Rdev   uint64            `json:"r,omitempty"`
	Xattrs map[string][]byte `json:"x,omitempty"`
}

// metaStore keeps meta for upper entries, keyed by the upper file's host
// inode number: hard links share it, renames keep it, and it works on every
// filesystem (tmpfs, ext4, xfs, NFS without xattrs, and symlinks, which
// cannot carry user xattrs). It is an append-only journal of records
//
//	<crc32c hex> <json {"i":ino, ...meta} or {"i":ino,"d":true}>\n
//
// replayed at mount (last record wins, a torn or corrupt tail is dropped) and
// compacted by rewriting it atomically when mostly dead.
type metaStore struct {
	path string

	mu      sync.Mutex
	m       map[uint64]*meta
	f       *os.File
	w       *bufio.Writer
	records int
	dirty   bool
	// volatile skips fsync (Config.Volatile).
	volatile bool
}

type metaRecord struct {
	Ino uint64 `json:"i"`
	Del bool   `json:"d,omitempty"`
	meta
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func openMetaStore(path string, volatile bool) (*metaStore, error) {
	s := &metaStore{path: path, m: map[uint64]*meta{}, volatile: volatile}
	if err := s.replay(); err != nil {
		return nil, fmt.Errorf("replay ownership journal %s: %w", path, err)
	}
	if err := s.compact(); err != nil {
		return nil, fmt.Errorf("compact ownership journal %s: %w", path, err)
	}
	return s, nil
}

func (s *metaStore) replay() error {
	f, err := os.Open(s.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 10 || line[8] != ' ' {
			break // torn tail
		}
		want, err := strconv.ParseUint(string(line[:8]), 16, 32)
		if err != nil || crc32.Checksum(line[9:], crcTable) != uint32(want) {
			break
		}
		var r metaRecord
		if json.Unmarshal(line[9:], &r) != nil {
			break
		}
		if r.Del {
			delete(s.m, r.Ino)
		} else {
			m := r.meta
			s.m[r.Ino] = &m
		}
	}
	return nil
}

// compact rewrites the journal with one record per live entry (temp file,
// fsync, rename) and opens it for appending.
func (s *metaStore) compact() error {
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".nookmeta-*")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	for ino, m := range s.m {
		if err := writeRecord(w, metaRecord{Ino: ino, meta: *m}); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
	}
	err = w.Flush()
	if err == nil && !s.volatile {
		err = tmp.Sync()
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.w, s.records = tmp, bufio.NewWriterSize(tmp, 64<<10), len(s.m)
	return nil
}

func writeRecord(w *bufio.Writer, r metaRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%08x ", crc32.Checksum(b, crcTable))
	w.Write(b)
	return w.WriteByte('\n')
}

// get returns a copy of ino's meta.
func (s *metaStore) get(ino uint64) (meta, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[ino]
	if !ok {
		return meta{}, false
	}
	return *m, true
}

func (s *metaStore) set(ino uint64, m meta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := m
	s.m[ino] = &c
	return s.appendLocked(metaRecord{Ino: ino, meta: m})
}

func (s *metaStore) del(ino uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[ino]; !ok {
		return nil
	}
	delete(s.m, ino)
	return s.appendLocked(metaRecord{Ino: ino, Del: true})
}

func (s *metaStore) appendLocked(r metaRecord) error {
	if err := writeRecord(s.w, r); err != nil {
		return err
	}
	s.records++
	s.dirty = true
	// Hand every record to the kernel at once: a killed server then loses
	// nothing that the workload was told had happened.
	if err := s.w.Flush(); err != nil {
		return err
	}
	if s.records > 4*len(s.m)+4096 {
		return s.compact()
	}
	return nil
}

// flush hands buffered records to the kernel; sync also makes them durable.
func (s *metaStore) flush(sync bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		return err
	}
	if sync && s.dirty && !s.volatile {
		s.dirty = false
		return s.f.Sync()
	}
	return nil
}

func (s *metaStore) close() error {
	err := s.flush(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
