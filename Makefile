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

# lint: go vet, staticcheck and govulncheck. Both tools are pinned in go.mod
# as module tools (`go get -tool`), so they build from the module cache like
# any dependency and a missing tool fails the target. Only a vulnerability
# database that cannot be reached (exit 1 with no findings) is a warning.
# STATICCHECK_CHECKS narrows staticcheck (CI uses the correctness checks,
# SA*; the default set also reports style).
STATICCHECK_CHECKS ?= inherit
lint:
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck -checks '$(STATICCHECK_CHECKS)' $(PKGS)
	@rc=0; out=$$($(GO) tool govulncheck $(PKGS) 2>&1) || rc=$$?; echo "$$out"; \
	if [ $$rc -eq 3 ]; then echo "govulncheck: vulnerable code is called" >&2; exit 3; fi; \
	if [ $$rc -ne 0 ]; then \
		if echo "$$out" | grep -qiE 'vuln.go.dev|fetching vulnerabilities|dial tcp|no such host|connection refused|i/o timeout'; then \
			echo "WARNING: govulncheck could not reach the vulnerability database: skipped" >&2; \
		else echo "govulncheck failed (exit $$rc)" >&2; exit $$rc; fi; \
	fi

# fuzz-short runs every fuzz target briefly against its committed seed
# corpus (testdata/fuzz/<Target>) and fresh inputs. For a longer local run:
#   go test -run='^$$' -fuzz=FuzzLoad -fuzztime=10m ./playbook
FUZZTIME ?= 5s
FUZZ_TARGETS := \
	FuzzParseINI:./inventory FuzzParseYAML:./inventory FuzzPattern:./inventory \
	FuzzRender:./templates FuzzDecrypt:./playbook/vault \
	FuzzLoad:./playbook FuzzSplitFreeForm:./modules FuzzConvert:./templates/jinja
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
BENCH_TOOLS        ?= floor,floor-shell,mdo-play,mdo-play-b,ansible-playbook
.PHONY: bench
bench: build deps
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/mdo-floor ./bench/cmd/mdo-floor
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/mdo-bench ./bench/cmd/mdo-bench
	./bin/mdo-bench -hosts "$(BENCH_HOSTS)" -reps $(BENCH_REPS) -ansible-max $(BENCH_ANSIBLE_MAX) \
		-ansible-reps $(BENCH_ANSIBLE_REPS) -tools $(BENCH_TOOLS) -mdo-play $(BIN) -floor bin/mdo-floor -results bench/RESULTS.md

# slurm runs one rollout as a 4-task Slurm array (sbatch --array=0-3, each
# task mdo-play --slice auto) on a one-node cluster the test starts on this
# machine, and merges the slices' events (needs root; installs slurm-wlm and
# munge when missing).
.PHONY: slurm
slurm:
	@./.ci/deps-slurm
	MDO_SLURM_TEST=1 $(GO) test -count=1 -timeout 10m -run '^TestSlurmArrayRollout$$' -v ./cmd/mdo-play

clean:
	rm -rf bin

# scale: issue 14's one-controller figures (docs/scale.md): --list-hosts
# over SCALE_INVENTORIES-host INI inventories, then the 5-task playbook on
# SCALE_HOSTS real sshd test hosts with -f SCALE_FORKS (needs root; the
# first count is the baseline of the per-host cost ratio).
SCALE_HOSTS       ?= 100 1000
SCALE_FORKS       ?= 200
SCALE_INVENTORIES ?= 10000 60000
SCALE_FLAGS       ?=
.PHONY: scale
scale: build deps
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/mdo-scale ./bench/cmd/mdo-scale
	./bin/mdo-scale -mdo-play $(BIN) -hosts "$(SCALE_HOSTS)" -forks $(SCALE_FORKS) -inventories "$(SCALE_INVENTORIES)" $(SCALE_FLAGS)

# realworld: issue 12's real roles (playbook/convert/testdata/realworld/roles, six public
# roles): each converts, loads, and in --check matches ansible-playbook
# running the original, task by task, on fresh RootOverlay test hosts; nginx,
# java and redis converge and a rerun reports changed=0 (docs/convert.md,
# "Real roles"). Needs root; installs ansible-core when missing; the hosts
# apt-get from the machine's sources.
.PHONY: realworld
realworld: build deps
	@command -v ansible-playbook >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible-core >/dev/null; }
	MDO_PLAY=$(CURDIR)/$(BIN) $(GO) test -tags realworld -count=1 -timeout 20m -v -run "^TestRealRoles$$" ./playbook/convert

# survey: issue 12's targets measured on roles outside the repository: every
# directory under SURVEY_ROLES is a role, converted, loaded and compared in
# --check with ansible-playbook as `make realworld` does for its six; the
# summary table goes to SURVEY_OUT (needs root and ansible-core).
SURVEY_ROLES ?=
SURVEY_OUT   ?= survey.md
.PHONY: survey
survey: build deps
	@test -n "$(SURVEY_ROLES)" || { echo "usage: make survey SURVEY_ROLES=DIR" >&2; exit 2; }
	MDO_PLAY=$(CURDIR)/$(BIN) MDO_SURVEY_ROLES=$(abspath $(SURVEY_ROLES)) MDO_SURVEY_OUT=$(abspath $(SURVEY_OUT)) \
		$(GO) test -tags realworld -count=1 -timeout 60m -v -run "^TestSurveyRoles$$" ./playbook/convert
