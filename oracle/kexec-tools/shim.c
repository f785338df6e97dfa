/*
 * shim.c — kexec-tools' runtime (die, xmalloc, add_buffer, ...) for the oracle.
 *
 * Our own code (purgatory-oracle). Compiled against the fetched tree's headers (kexec.h), so a
 * signature change upstream is a compile error here rather than a silent mismatch.
 *
 * Differences from kexec-tools' kexec/kexec.c, all deliberate:
 *  - die() formats its message to stderr exactly as kexec-tools does, then longjmps back to the
 *    request loop instead of exit(1).
 *  - xmalloc/xrealloc fill fresh memory with the request's fill byte (malloc's memory is
 *    undefined; the fill makes the bytes kexec-tools never writes visible and reproducible), and
 *    every block is tracked and freed at the end of the request.
 *  - add_buffer() does no hole search: it returns the requested base aligned up the way
 *    locate_hole() aligns a range start, _ALIGN(base, max(buf_align, getpagesize())).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kexec.h" /* upstream: the prototypes we implement */
#include "shim.h"

int kexec_debug = 0;
unsigned long long mem_min = 0;
unsigned long long mem_max = ULLONG_MAX;

struct po_buffer po_last_buffer;

static uint64_t req_base;
static uint8_t req_fill;
static jmp_buf *req_jmp;

/* stderr capture */
static FILE *real_stderr;
static FILE *capture;
static char *capture_buf;
static size_t capture_len;
static char *last_msg;
static size_t last_len;

/* allocation tracking */
struct block {
	void *ptr;
	size_t size;
};
static struct block *blocks;
static size_t nblocks, capblocks;
static size_t max_alloc;

static size_t limit_alloc(void)
{
	if (!max_alloc) {
		const char *env = getenv("PO_ORACLE_MAX_ALLOC");
		max_alloc = env && *env ? (size_t)strtoull(env, NULL, 0) : ((size_t)1 << 30);
		if (!max_alloc)
			max_alloc = (size_t)1 << 30;
	}
	return max_alloc;
}

unsigned long po_pagesize(void)
{
	static unsigned long ps;
	if (!ps) {
		const char *env = getenv("PO_ORACLE_PAGESIZE");
		ps = env && *env ? strtoul(env, NULL, 0) : (unsigned long)getpagesize();
		if (!ps)
			ps = (unsigned long)getpagesize();
	}
	return ps;
}

void po_diag(const char *fmt, ...)
{
	va_list ap;
	FILE *f = real_stderr ? real_stderr : stderr;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
}

static void track(void *p, size_t size)
{
	if (nblocks == capblocks) {
		size_t ncap = capblocks ? capblocks * 2 : 64;
		struct block *nb = realloc(blocks, ncap * sizeof(*nb));
		if (!nb) {
			po_diag("oracle: out of memory tracking allocations\n");
			_exit(PO_EXIT_RESOURCE_LIMIT);
		}
		blocks = nb;
		capblocks = ncap;
	}
	blocks[nblocks].ptr = p;
	blocks[nblocks].size = size;
	nblocks++;
}

static struct block *find_block(void *p)
{
	size_t i;
	for (i = nblocks; i-- > 0;)
		if (blocks[i].ptr == p)
			return &blocks[i];
	return NULL;
}

static void untrack(struct block *b)
{
	*b = blocks[--nblocks];
}

/* The oracle's answer to an allocation above the limit: exit with PO_EXIT_RESOURCE_LIMIT (the TS
 * runner reports the request as crashed, signal "resource-limit"). Weak: the fuzzing entry point
 * (fuzz-entry.c) ends the input instead, so a fuzzer does not count it as a crash. */
__attribute__((weak)) void po_resource_limit_exceeded(size_t size)
{
	po_diag("oracle: resource limit: a %zu-byte allocation succeeded but exceeds the "
		"oracle's limit of %zu bytes (PO_ORACLE_MAX_ALLOC)\n", size, limit_alloc());
	_exit(PO_EXIT_RESOURCE_LIMIT);
}

static void check_limit(void *p, size_t size)
{
	if (size > limit_alloc()) {
		/* malloc agreed; the real kexec-tools would now touch it all. Refuse to thrash. */
		free(p);
		po_resource_limit_exceeded(size);
	}
}

void *po_tracked_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p) {
		po_diag("oracle: out of memory (%zu bytes)\n", size);
		_exit(PO_EXIT_RESOURCE_LIMIT);
	}
	check_limit(p, size);
	track(p, size);
	return p;
}

void harness_free(void *ptr)
{
	struct block *b;
	if (!ptr)
		return;
	b = find_block(ptr);
	if (b)
		untrack(b);
	free(ptr);
}

/* kexec/kexec.c: die() prints with vfprintf(stderr) then exits; we return to the request. */
void die(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fflush(stderr);
	if (req_jmp)
		longjmp(*req_jmp, 1);
	fflush(stdout);
	exit(1);
}

/* kexec/kexec.c: xmalloc(0) returns NULL; a failed malloc dies with this exact message. */
void *xmalloc(size_t size)
{
	void *buf;
	if (!size)
		return NULL;
	buf = malloc(size);
	if (!buf) {
		die("Cannot malloc %ld bytes: %s\n", size + 0UL, strerror(errno));
	}
	check_limit(buf, size);
	memset(buf, req_fill, size);
	track(buf, size);
	return buf;
}

void *xrealloc(void *ptr, size_t size)
{
	void *buf;
	struct block *b = ptr ? find_block(ptr) : NULL;
	size_t old = b ? b->size : 0;
	buf = realloc(ptr, size);
	if (!buf) {
		die("Cannot realloc %ld bytes: %s\n", size + 0UL, strerror(errno));
	}
	if (b)
		untrack(b);
	check_limit(buf, size);
	if (size > old)
		memset((char *)buf + old, req_fill, size - old);
	track(buf, size);
	return buf;
}

char *xstrdup(const char *str);
char *xstrdup(const char *str)
{
	size_t n = strlen(str) + 1;
	char *p = xmalloc(n);
	memcpy(p, str, n);
	return p;
}

unsigned long add_buffer(struct kexec_info *info, const void *buf, unsigned long bufsz,
	unsigned long memsz, unsigned long buf_align, unsigned long buf_min,
	unsigned long buf_max, int buf_end)
{
	unsigned long long start = req_base;
	unsigned long hole_align = buf_align;
	(void)info;
	/* locate_hole: "Align everything to at least a page size boundary" */
	if (hole_align < po_pagesize())
		hole_align = po_pagesize();
	/* locate_hole: start = _ALIGN(start, hole_align), start being unsigned long long */
	start = (start + ((unsigned long long)hole_align - 1)) & ~((unsigned long long)hole_align - 1);
	po_last_buffer.calls++;
	po_last_buffer.buf = buf;
	po_last_buffer.bufsz = bufsz;
	po_last_buffer.memsz = memsz;
	po_last_buffer.buf_align = buf_align;
	po_last_buffer.buf_min = buf_min;
	po_last_buffer.buf_max = buf_max;
	po_last_buffer.buf_end = buf_end;
	po_last_buffer.base = (unsigned long)start;
	return (unsigned long)start;
}

void po_begin_request(uint64_t base, uint8_t fill, jmp_buf *jmp)
{
	req_base = base;
	req_fill = fill;
	req_jmp = jmp;
	memset(&po_last_buffer, 0, sizeof(po_last_buffer));
	free(last_msg);
	last_msg = NULL;
	last_len = 0;
	if (!real_stderr)
		real_stderr = stderr;
	capture_buf = NULL;
	capture_len = 0;
	capture = open_memstream(&capture_buf, &capture_len);
	if (!capture) {
		po_diag("oracle: open_memstream failed: %s\n", strerror(errno));
		_exit(PO_EXIT_RESOURCE_LIMIT);
	}
	stderr = capture;
}

void po_end_request(const char **msg, size_t *len)
{
	size_t i;
	stderr = real_stderr;
	fclose(capture);
	capture = NULL;
	last_msg = capture_buf;
	last_len = capture_len;
	capture_buf = NULL;
	for (i = 0; i < nblocks; i++)
		free(blocks[i].ptr);
	nblocks = 0;
	req_jmp = NULL;
	*msg = last_msg ? last_msg : "";
	*len = last_len;
}
