// Package ctrlog keeps the log of a detached container: what the monitor
// copies from the workload's stdout and stderr, and what `nook logs` prints.
//
// # Format
//
// The log is dir/ctr.log, one record per line in the format of CRI and
// Podman's k8s-file driver, so that their tools read it:
//
//	2026-11-28T21:00:00.123456789Z stdout F a whole line
//	2026-11-28T21:00:00.200000000Z stderr P the first part of a line,
//	2026-11-28T21:00:00.200000000Z stderr F  the rest of it
//
// A timestamp (UTC, nine fraction digits), the stream, a tag and the
// content, separated by one space. F ends a line of the workload's output
// (the newline is not stored); P is a part of a line that goes on in the
// same stream's next record. Lines longer than MaxChunk (16 KiB) become P
// records ended by an F record, and output after the last newline of a
// write is stored at once as P records, so that a prompt shows in `logs -f`
// before its line ends. Content is raw bytes up to the newline: binary
// output and invalid UTF-8 read back unchanged.
//
// # Writing
//
// The monitor opens the log once and copies each pipe to its stream:
//
//	w, err := ctrlog.Open(dir, opts) // opts from ParseLogOpts(--log-opt values)
//	go io.Copy(w.Stream(ctrlog.Stdout), stdoutPipe)
//	go io.Copy(w.Stream(ctrlog.Stderr), stderrPipe)
//	... after both copies end: w.Close()
//
// The streams may be written at once from two goroutines; a Writer's lock
// keeps records whole. A Write stores its records before it returns, with
// one write(2) per 64 KiB of records and no fsync: nothing is held back
// for later, so a reader sees output as soon as it is written and a
// monitor killed at any moment leaves at worst a torn last line, which the
// reader skips and the next Open cuts off. A Write error (a
// full disk) drops that Write's records; a monitor that wants the workload
// never to block on a full pipe keeps copying after it.
//
// When ctr.log would grow past Options.MaxSize it is rotated: the oldest
// file, ctr.log.(MaxFiles-1), is removed, ctr.log.N becomes ctr.log.N+1,
// ctr.log becomes ctr.log.1 and a new ctr.log starts. Each file holds at most
// MaxSize bytes (or one record, when a MaxSize under 16 KiB is smaller than
// a record), so the log takes at most MaxSize*MaxFiles bytes. Rotation
// renames, so a reader holding a file keeps it.
//
// A container with a terminal has one stream; its output goes to Stdout,
// as conmon logs it.
//
// # Reading
//
// Read prints the log: rotated files oldest first, each stream to its own
// writer with P records joined, optionally only the last Tail lines, lines
// within Since and Until (ParseSince reads Docker's --since/--until forms),
// each prefixed with its time (-t). With Follow it goes on printing new
// records, waiting on inotify (no polling), and follows the writer across
// rotations without losing or repeating a record: it tracks files by inode
// and reads a file to its end once more after the next one appears. It
// stops when ReadOptions.Done is closed, after printing everything written
// until then; `nook logs -f` closes Done when the container's monitor has
// exited (its pidfd became readable), since every record the monitor wrote
// is in the file by then.
//
// A reader that falls behind by more than MaxFiles rotations loses the
// files that were removed in between, as with Docker and Podman.
package ctrlog
