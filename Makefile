# mdo-play: build, test and demo. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     := bin/mdo-play
PKGS    := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build test test-short lint fmt demo deps clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/mdo-play
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/mdo-testhosts ./cmd/mdo-testhosts

# deps installs what the SSH tests need (real sshd test hosts) when missing.
deps:
	@./.ci/deps

test: deps
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

test-short:
	$(GO) test -count=1 $(PKGS)

# lint fails only on real findings: vet, staticcheck and govulncheck (the
# last two from the Go module proxy) all exit non-zero only when they report.
lint:
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest $(PKGS)
	$(GO) run golang.org/x/vuln/cmd/govulncheck@latest $(PKGS)

# fuzz-short runs every fuzz target briefly against its committed seed
# corpus (testdata/fuzz/<Target>) and fresh inputs. For a longer local run:
#   go test -run='^$$' -fuzz=FuzzLoad -fuzztime=10m ./playbook
FUZZTIME ?= 5s
FUZZ_TARGETS := \
	FuzzParseINI:./inventory FuzzParseYAML:./inventory FuzzPattern:./inventory \
	FuzzRender:./templates FuzzDecrypt:./playbook/vault \
	FuzzLoad:./playbook FuzzSplitFreeForm:./modules
.PHONY: fuzz-short
fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} ($(FUZZTIME))"; \
		$(GO) test -short -run='^$$' -fuzz="^$${t%%:*}\$$" -fuzztime=$(FUZZTIME) -parallel 2 "$${t#*:}"; \
	done

fmt:
	gofmt -w $$(git ls-files '*.go')

# demo runs the example rollout against three throwaway sshd test hosts
# (needs root); without root it runs the local example instead.
demo: build
	@./examples/demo.sh

# bench runs bench/runbook with mdo-play, ansible-playbook and the
# one-exec-per-task floor program on N real sshd test hosts (needs root) and
# writes bench/RESULTS.md. Ansible runs only up to BENCH_ANSIBLE_MAX hosts.
BENCH_HOSTS        ?= 10 50 200
BENCH_REPS         ?= 3
BENCH_ANSIBLE_MAX  ?= 50
BENCH_ANSIBLE_REPS ?= 1
.PHONY: bench
bench: build deps
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/mdo-floor ./bench/cmd/mdo-floor
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/mdo-bench ./bench/cmd/mdo-bench
	./bin/mdo-bench -hosts "$(BENCH_HOSTS)" -reps $(BENCH_REPS) -ansible-max $(BENCH_ANSIBLE_MAX) \
		-ansible-reps $(BENCH_ANSIBLE_REPS) -mdo-play $(BIN) -floor bin/mdo-floor -results bench/RESULTS.md

clean:
	rm -rf bin
