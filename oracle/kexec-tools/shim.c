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
 *  - With po_use_arena() (the oracle, not bench-load or the fuzzing entry), the loader's blocks
 *    come from a request arena at a fixed address instead of malloc: see "request arena" below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

void po_report_resource_limit(size_t size)
{
	po_diag("oracle: resource limit: a %zu-byte allocation exceeds the oracle's limit of %zu bytes "
		"(PO_ORACLE_MAX_ALLOC)\n", size, limit_alloc());
}

/* The oracle's answer to an allocation above the limit: exit with PO_EXIT_RESOURCE_LIMIT (the TS
 * runner reports the request as crashed, signal "resource-limit"). Weak: a recovering fork-server
 * child (harness.c) answers it and carries on; the fuzzing entry point (fuzz-entry.c) ends the
 * input instead, so a fuzzer does not count it as a crash. */
__attribute__((weak)) void po_resource_limit_exceeded(size_t size)
{
	po_report_resource_limit(size);
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

/*
 * Request arena. The oracle allocates every block of a request (the ELF copy, the header tables,
 * the image) from one reservation at a fixed address, bump-allocated and reset when the request
 * ends:
 *  - host_buf, which ppc64 REL32 bytes follow, is a function of the request alone: not of the
 *    requests before it, of the fork server's heap, of the binary's path (static glibc's start-up
 *    allocations move the malloc heap under qemu-user) or of the glibc version;
 *  - a load that crashes leaves nothing behind: the next request starts from an empty arena, so
 *    the fork server can answer a crash without forking (harness.c);
 *  - an out-of-bounds write of the loader lands in the request's own blocks or faults, instead of
 *    corrupting malloc's heap for the requests after it.
 * Only the first ARENA_RW bytes, or as far as the request's blocks reach (rounded up to a page),
 * are accessible; the rest of the reservation is PROT_NONE, so a runaway copy faults soon past
 * the last block, as it would past the top of a small heap, rather than running through the
 * reservation. Layout: a zero lead, then 16-byte aligned blocks, each after a 16-byte header
 * holding its size (so a read a few bytes below a block sees mapped, deterministic bytes, as below
 * a malloc chunk). At the
 * end of a request the accessible part is zeroed and given back, so no request sees another's
 * bytes. Blocks above the allocation limit take the malloc path (plain_malloc). Sanitizer builds
 * never use the arena: ASan must see every block.
 */
#define ARENA_ADDR ((uintptr_t)0x100000000000ULL) /* 16 TiB: free on x86_64 hosts and under qemu-user */
#define ARENA_LEAD ((size_t)0x10000)             /* below the first block: accessible and zero */
#define ARENA_HDR ((size_t)16)
#define ARENA_RW (ARENA_LEAD + ((size_t)256 << 10)) /* accessible at the start of every request */
static uint8_t *arena;
static size_t arena_cap, arena_used, arena_rw;

int po_use_arena(void)
{
	size_t cap;
	void *p;
	if (arena)
		return 0;
	/* every block of a request: two images (the largest allowed each), the ELF, its tables */
	cap = 2 * limit_alloc() + ((size_t)256 << 20);
	p = mmap((void *)ARENA_ADDR, cap, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)ARENA_ADDR || mprotect(p, ARENA_RW, PROT_READ | PROT_WRITE) != 0) {
		int e = errno;
		if (p != MAP_FAILED)
			munmap(p, cap);
		po_diag("oracle: cannot map the request arena at 0x%lx (%zu bytes): %s\n",
			(unsigned long)ARENA_ADDR, cap, p == MAP_FAILED || p == (void *)ARENA_ADDR ? strerror(e) : "mapped elsewhere");
		return -1;
	}
	arena = p;
	arena_cap = cap;
	arena_used = ARENA_LEAD;
	arena_rw = ARENA_RW;
	return 0;
}

static int in_arena(const void *p)
{
	return arena && (const uint8_t *)p >= arena && (const uint8_t *)p < arena + arena_cap;
}

/* A block of size bytes (after its header; the pad up to 16 bytes zero), or NULL when the arena is
 * off, the block is over the limit or the reservation is full (the caller then uses malloc). */
static void *arena_alloc(size_t size)
{
	size_t need, start, end;
	uint8_t *b;
	if (!arena || size > limit_alloc())
		return NULL;
	need = ARENA_HDR + ((size + 15) & ~(size_t)15);
	if (need > arena_cap - arena_used)
		return NULL;
	start = arena_used;
	end = start + need;
	if (end > arena_rw) {
		size_t page = (size_t)getpagesize();
		size_t rw = (end + page - 1) & ~(page - 1);
		if (rw > arena_cap)
			rw = arena_cap;
		if (mprotect(arena + arena_rw, rw - arena_rw, PROT_READ | PROT_WRITE) != 0)
			return NULL;
		arena_rw = rw;
	}
	arena_used = end;
	b = arena + start + ARENA_HDR;
	memcpy(arena + start, &size, sizeof(size));
	memset(b + size, 0, need - ARENA_HDR - size);
	return b;
}

static size_t arena_size(const void *p)
{
	size_t size;
	memcpy(&size, (const uint8_t *)p - ARENA_HDR, sizeof(size));
	return size;
}

/* End of a request: zero all it could write (the accessible part), and make what it made
 * accessible beyond ARENA_RW inaccessible again (a fresh reservation, not written). Every request
 * starts with the same ARENA_RW accessible: whether an access a little past the last block faults
 * depends on the request alone, not on what an earlier one needed. An mprotect per request would
 * cost more than the memset (a TLB flush, and a VM exit on some hypervisors). */
static void arena_reset(void)
{
	if (!arena)
		return;
	if (arena_rw > ARENA_RW) {
		if (mmap(arena + ARENA_RW, arena_rw - ARENA_RW, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) {
			po_diag("oracle: cannot reset the request arena: %s\n", strerror(errno));
			_exit(PO_EXIT_RESOURCE_LIMIT);
		}
		arena_rw = ARENA_RW;
	}
	memset(arena, 0, arena_rw);
	arena_used = ARENA_LEAD;
}

/*
 * malloc for a block the arena does not take. With the arena, a block above the limit is not
 * allocated at all: glibc refuses a size above PTRDIFF_MAX (NULL, ENOMEM; kexec-tools dies "Cannot
 * malloc"), and any other size gets the resource-limit answer. Trying the malloc first, as the
 * plain path does, made the answer depend on the machine's memory and overcommit policy, and under
 * qemu-user a multi-GiB mapping costs about 150 ms.
 */
static void *plain_malloc(size_t size)
{
	void *p;
	if (arena && size > limit_alloc()) {
		if (size > (size_t)PTRDIFF_MAX) {
			errno = ENOMEM;
			return NULL;
		}
		po_resource_limit_exceeded(size);
	}
	p = malloc(size ? size : 1);
	if (p)
		check_limit(p, size);
	return p;
}

void *po_tracked_malloc(size_t size)
{
	void *p = arena_alloc(size);
	if (p)
		return p;
	p = plain_malloc(size);
	if (!p) {
		po_diag("oracle: out of memory (%zu bytes)\n", size);
		_exit(PO_EXIT_RESOURCE_LIMIT);
	}
	track(p, size);
	return p;
}

void harness_free(void *ptr)
{
	struct block *b;
	if (!ptr || in_arena(ptr))
		return; /* freed when the request ends */
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
	buf = arena_alloc(size);
	if (buf) {
		memset(buf, req_fill, size);
		return buf;
	}
	buf = plain_malloc(size);
	if (!buf) {
		die("Cannot malloc %ld bytes: %s\n", size + 0UL, strerror(errno));
	}
	memset(buf, req_fill, size);
	track(buf, size);
	return buf;
}

void *xrealloc(void *ptr, size_t size)
{
	void *buf;
	struct block *b;
	size_t old;
	if (in_arena(ptr) && !size) /* realloc(p, 0) frees p and returns NULL: xrealloc dies */
		die("Cannot realloc %ld bytes: %s\n", size + 0UL, strerror(errno));
	if (size && (in_arena(ptr) || (!ptr && arena))) {
		/* a new block (the old one stays until the request ends); over the limit, or with the
		 * reservation full, malloc's answer as for any block */
		old = ptr ? arena_size(ptr) : 0;
		buf = arena_alloc(size);
		if (!buf) {
			buf = plain_malloc(size);
			if (!buf)
				die("Cannot realloc %ld bytes: %s\n", size + 0UL, strerror(errno));
			track(buf, size);
		}
		if (old)
			memcpy(buf, ptr, old < size ? old : size);
		if (size > old)
			memset((char *)buf + old, req_fill, size - old);
		return buf;
	}
	b = ptr ? find_block(ptr) : NULL;
	old = b ? b->size : 0;
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

jmp_buf *po_set_die_jmp(jmp_buf *jmp)
{
	jmp_buf *old = req_jmp;
	req_jmp = jmp;
	return old;
}

size_t po_captured(const char **text)
{
	if (capture)
		fflush(capture);
	*text = capture_buf ? capture_buf : "";
	return capture ? capture_len : 0;
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

/* Every block of the request, malloc'd or in the arena. */
static void release_request(void)
{
	size_t i;
	for (i = 0; i < nblocks; i++)
		free(blocks[i].ptr);
	nblocks = 0;
	arena_reset();
	req_jmp = NULL;
}

void po_abandon_request(void)
{
	/* the capture stream may be half-way through a write: drop it (a small leak per crash) */
	stderr = real_stderr;
	capture = NULL;
	capture_buf = NULL;
	capture_len = 0;
	release_request();
}

void po_end_request(const char **msg, size_t *len)
{
	stderr = real_stderr;
	fclose(capture);
	capture = NULL;
	last_msg = capture_buf;
	last_len = capture_len;
	capture_buf = NULL;
	release_request();
	*msg = last_msg ? last_msg : "";
	*len = last_len;
}
