/*
 * fuzz-entry.c — a libFuzzer / AFL++ entry point for the unmodified kexec-tools loader.
 * Our own code (purgatory-oracle). Built by scripts/build-fuzz-harness.sh; not part of the oracle.
 *
 * One input is one raw ELF file, loaded exactly as the oracle loads a request: the bytes are
 * copied into a buffer of their exact size, elf_rel_build_load() runs with the arch's window,
 * then the harness's symbol writes (none by default). die() returns to us (shim.c longjmps), so
 * a rejection is a normal, quiet return; only a real fault (ASan/UBSan report, SIGSEGV) is a crash.
 * Inputs are raw ELF files so that seeds are corpus purgatories as they are, and every crash
 * file a fuzzer writes can be replayed through the differential as it is:
 *
 *   purgatory-oracle fuzz --replay DIR --oracle kexec-tools-2.0.25/x86_64
 *
 * Environment (read once):
 *   PO_FUZZ_BASE   load address (default 0x100000), as the oracle's request base
 *   PO_FUZZ_FILL   heap fill byte (default 0)
 *   PO_FUZZ_SET    optional NAME=HEX symbol write applied with elf_rel_set_symbol after the load
 *
 * Allocations above the oracle's limit (PO_ORACLE_MAX_ALLOC, default 1 GiB) end the input as a
 * die() would, instead of the oracle's exit status 77: a fuzzer must not count an honest large
 * malloc of the real loader as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kexec.h" /* upstream: die() */
#include "po.h"
#include "shim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t base = 0x100000;
static uint8_t fill;
static struct po_symwrite set;
static uint32_t nset;
static uint8_t set_data[256];
static char set_name[256];
static volatile uint64_t sink;

/* Overrides the weak default in shim.c (which exits with PO_EXIT_RESOURCE_LIMIT). */
void po_resource_limit_exceeded(size_t size)
{
	die("oracle: resource limit: a %zu-byte allocation (PO_ORACLE_MAX_ALLOC)\n", size);
}

static void on_ok(void *ctx, const struct po_loaded *res)
{
	(void)ctx;
	/* Touch the result so the loader's work is observable; a bad image_len faults here. */
	sink += res->rel_addr + res->entry + res->image_len + (res->image_len ? res->image[res->image_len - 1] : 0);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *e;
	(void)argc;
	(void)argv;
	if ((e = getenv("PO_FUZZ_BASE")) && *e)
		base = strtoull(e, NULL, 0);
	if ((e = getenv("PO_FUZZ_FILL")) && *e)
		fill = (uint8_t)strtoul(e, NULL, 0);
	if ((e = getenv("PO_FUZZ_SET")) && *e) {
		const char *eq = strchr(e, '=');
		size_t n, i;
		if (!eq || (size_t)(eq - e) >= sizeof(set_name) || strlen(eq + 1) % 2 || strlen(eq + 1) / 2 > sizeof(set_data)) {
			fprintf(stderr, "fuzz-entry: PO_FUZZ_SET must be NAME=HEX (at most %zu bytes)\n", sizeof(set_data));
			exit(2);
		}
		memcpy(set_name, e, (size_t)(eq - e));
		n = strlen(eq + 1) / 2;
		for (i = 0; i < n; i++) {
			int hi = hexval(eq[1 + 2 * i]), lo = hexval(eq[2 + 2 * i]);
			if (hi < 0 || lo < 0) {
				fprintf(stderr, "fuzz-entry: PO_FUZZ_SET: bad hex digit\n");
				exit(2);
			}
			set_data[i] = (uint8_t)(hi << 4 | lo);
		}
		set.name = set_name;
		set.data = set_data;
		set.len = (uint32_t)n;
		nset = 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg;
	size_t msg_len;
	if (size > UINT32_MAX)
		return -1; /* the oracle protocol carries at most a u32 length */
	po_load(data, (uint32_t)size, base, fill, nset ? &set : NULL, nset, on_ok, NULL, &msg, &msg_len);
	return 0;
}
