# nook: make build | test | lint | demo | bench | vmtest | clean
#
# Go is taken from PATH, else from /usr/local/go/bin (where go.dev's tarball
# installs it).
SHELL := /bin/bash
# nook is built without cgo: a static binary starts about a millisecond
# faster (no dynamic loader), which a container pays three times, and runs
# on any distribution. The tests and benchmarks build it the same way.
export CGO_ENABLED := 0
.SHELLFLAGS := -euo pipefail -c

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
GOFMT ?= $(dir $(GO))gofmt
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X github.com/nookrun/nook/internal/cli/buildinfo.version=$(VERSION)
BIN := bin

# make bench: several runs, so benchtable can take medians.
BENCHCOUNT ?= 5
BENCHTIMEOUT ?= 60m
# staticcheck, run with go run from the module proxy (no install needed).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

# make vmtest: which packages (default: every one with vmtest-tagged tests),
# which tests (default: those the tagged files define), and how long the VM
# may run before it is killed.
VMTEST_PKGS ?=
VMTEST_RUN ?=
VMTEST_TIMEOUT ?= 20m
VMTEST_SYSTEMD ?= 1

.PHONY: all build test vet lint demo bench vmtest clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/nook ./cmd/nook-overlayfs

vet:
	$(GO) vet ./...

# The tests need user namespaces, /dev/fuse and the Debian packages in the
# README; set NOOK_TEST_STRICT=1 to make every skip for a missing kernel
# feature a failure (CI does).
test: vet
	$(GO) test -count=1 ./...

lint:
	@unformatted=$$($(GOFMT) -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

demo: build
	scripts/demo.sh $(BIN)

# A benchmark run by hand, not part of make test: nook-overlayfs (dir and tar
# lowers) vs fuse-overlayfs vs kernel overlayfs, layer indexing vs tar -x, and
# nook run's start-up vs podman run, bwrap and unshare; then the table. Each
# of the BENCHCOUNT runs measures every workload once on every peer, so the
# peers of a workload take turns instead of being measured minutes apart;
# benchtable takes the medians, and keeps the hand-written notes at the end
# of the old report. Needs mmdebstrap (the Debian rootfs, cached), and podman,
# runc, fuse-overlayfs and bubblewrap for the start-up peers.
bench:
	for i in $$(seq $(BENCHCOUNT)); do \
		$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout $(BENCHTIMEOUT) ./bench/; \
	done | tee bench.out
	$(GO) run ./bench/cmd/benchtable -keep docs/BENCHMARKS.md < bench.out > docs/BENCHMARKS.md.tmp
	mv docs/BENCHMARKS.md.tmp docs/BENCHMARKS.md

# The tests that need a unified cgroup v2 hierarchy with a delegated subtree
# (//go:build vmtest), run as an unprivileged user in a qemu VM booting
# Debian's kernel: no root, no KVM needed. Needs qemu-system-x86 (and lz4
# for a faster boot); downloads and kernels are cached in
# $XDG_CACHE_HOME/nook-vmtest. See vmtest/README.md.
# Then, unless VMTEST_SYSTEMD=0, the tests of *systemd_vmtest_test.go files
# in a second VM that boots systemd from a Debian root filesystem (made
# once with mmdebstrap, cached there too): nook asking the user's systemd
# for a delegated scope. About 25 s warm.
vmtest: build
	$(GO) run ./vmtest -go '$(GO)' -nook-bin '$(BIN)' -timeout '$(VMTEST_TIMEOUT)' \
		-pkgs '$(VMTEST_PKGS)' -run '$(VMTEST_RUN)'
	if [ '$(VMTEST_SYSTEMD)' != 0 ]; then \
		$(GO) run ./vmtest -systemd -go '$(GO)' -nook-bin '$(BIN)' -timeout '$(VMTEST_TIMEOUT)' \
			-pkgs '$(VMTEST_PKGS)' -run '$(VMTEST_RUN)'; \
	fi

clean:
	rm -rf $(BIN) bench.out
