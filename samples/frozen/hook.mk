# hook.mk - included by samples/Makefile so that `make -C samples` also
# builds the frozen-module and ROM samples in samples/frozen/build/.
.PHONY: frozen-samples
all: frozen-samples
frozen-samples:
	@$(MAKE) --no-print-directory -C frozen
