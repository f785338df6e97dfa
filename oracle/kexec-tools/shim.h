/*
 * shim.h — the part of kexec-tools' runtime that kexec/kexec-elf.c, kexec/kexec-elf-rel.c and
 * kexec/arch/{x86_64,ppc64}/kexec-elf-rel-*.c need, reimplemented for a long-running oracle.
 *
 * Our own code (purgatory-oracle). The upstream files are compiled unmodified against their own
 * headers; this header is only for the harness side.
 */
#ifndef PO_SHIM_H
#define PO_SHIM_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

/* Exit status of the oracle process when a request needs more memory than the oracle allows
 * (the allocation succeeded but filling it would thrash the machine). The TS runner reports the
 * request as crashed with signal "resource-limit". */
#define PO_EXIT_RESOURCE_LIMIT 77
/* Exit status for a malformed request stream (a bug in the runner, never in the ELF). */
#define PO_EXIT_PROTOCOL 3

/* What the loader handed to add_buffer() during the current request. */
struct po_buffer {
	int calls;                /* how many times add_buffer was called */
	const void *buf;          /* the buffer pointer (host address) */
	unsigned long bufsz;
	unsigned long memsz;
	unsigned long buf_align;
	unsigned long buf_min, buf_max;
	int buf_end;
	unsigned long base;       /* the address add_buffer returned */
};

extern struct po_buffer po_last_buffer;

/* Page size used by add_buffer's alignment (getpagesize(), or $PO_ORACLE_PAGESIZE). */
unsigned long po_pagesize(void);

/* Begin a request: sets the requested base and fill byte, starts capturing stderr.
 * die() longjmps to *jmp. */
void po_begin_request(uint64_t base, uint8_t fill, jmp_buf *jmp);
/* End a request: stops capturing; returns everything written to stderr (fprintf, die) since
 * po_begin_request in msg and len (valid until the next po_begin_request). Frees every block
 * allocated during the request that the loader did not free itself. */
void po_end_request(const char **msg, size_t *len);

/* Called when an allocation exceeds PO_ORACLE_MAX_ALLOC (with the arena: before any allocation;
 * without it: malloc succeeded, and the block is already freed). Does not return. Weak in shim.c
 * (po_report_resource_limit, then exit with PO_EXIT_RESOURCE_LIMIT); harness.c and fuzz-entry.c
 * override it. */
void po_resource_limit_exceeded(size_t size);
/* The diagnostic of the weak default, on the real stderr. */
void po_report_resource_limit(size_t size);

/* Serve the loader's blocks from the request arena at a fixed address (shim.c); 0, or -1 with a
 * diagnostic when the address cannot be mapped. Call once, before the first request. */
int po_use_arena(void);

/* Where die() longjmps to from now on (within a request); returns the previous target. */
jmp_buf *po_set_die_jmp(jmp_buf *jmp);
/* Everything written to stderr since po_begin_request (flushed): text and length, valid until the
 * next write to stderr. */
size_t po_captured(const char **text);

/* A request that crashed (a signal caught by the harness): restore stderr, release its blocks,
 * reset the arena. Its captured output is dropped. */
void po_abandon_request(void);

/* Allocation tracked like xmalloc but without the fill (harness-owned copies). */
void *po_tracked_malloc(size_t size);

/* free() as seen by the upstream objects (their references are renamed to this at build time). */
void harness_free(void *ptr);

/* The real stderr, while a request's stderr is being captured. */
void po_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
