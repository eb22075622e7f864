# hook.mk - included by samples/Makefile so that `make -C samples` also
# builds the reference-graph samples in samples/refgraph/build/.
.PHONY: refgraph-samples
all: refgraph-samples
refgraph-samples:
	@$(MAKE) --no-print-directory -C refgraph
