# hook.mk - included by samples/Makefile so that `make -C samples` also
# builds the literal-attribution samples in samples/literals/build/.
.PHONY: literals-samples
all: literals-samples
literals-samples:
	@$(MAKE) --no-print-directory -C literals
