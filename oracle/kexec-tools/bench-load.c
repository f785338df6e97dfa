/*
 * bench-load.c — in-process timing of the kexec-tools loader (same objects as the oracle).
 * Our own code (purgatory-oracle).
 *
 *   bench-load FILE [N=1000] [BASE=0x100000] [FILL=0]
 *
 * Loads FILE N times (after N/10 warm-up loads) and prints one JSON line:
 *   {"file":..., "loads":N, "ns_per_load":..., "status":"ok"|"died", "message":...}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "po.h"
#include "shim.h"

static uint64_t sink;

static void on_ok(void *ctx, const struct po_loaded *res)
{
	(void)ctx;
	sink += res->rel_addr + res->image_len + (res->image_len ? res->image[0] : 0);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	FILE *f;
	uint8_t *elf;
	long size;
	unsigned long n = 1000, i, warm;
	uint64_t base = 0x100000;
	uint8_t fill = 0;
	const char *msg = "";
	size_t msg_len = 0;
	int died = 0;
	double t0, t1;

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: %s FILE [N] [BASE] [FILL]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		n = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		base = strtoull(argv[3], NULL, 0);
	if (argc > 4)
		fill = (uint8_t)strtoul(argv[4], NULL, 0);
	if (!n)
		n = 1;
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	elf = malloc(size > 0 ? (size_t)size : 1);
	if (!elf || fread(elf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);

	warm = n / 10 + 1;
	for (i = 0; i < warm; i++)
		died = po_load(elf, (uint32_t)size, base, fill, NULL, 0, on_ok, NULL, &msg, &msg_len);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		died = po_load(elf, (uint32_t)size, base, fill, NULL, 0, on_ok, NULL, &msg, &msg_len);
	t1 = now_ns();
	printf("{\"file\":\"%s\",\"bytes\":%ld,\"loads\":%lu,\"ns_per_load\":%.1f,\"status\":\"%s\"",
		argv[1], size, n, (t1 - t0) / (double)n, died ? "died" : "ok");
	if (died) {
		size_t k;
		printf(",\"message\":\"");
		for (k = 0; k < msg_len; k++) {
			unsigned char c = (unsigned char)msg[k];
			if (c == '"' || c == '\\')
				printf("\\%c", c);
			else if (c < 0x20)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
		printf("\"");
	}
	printf("}\n");
	return sink == 0xdeadbeef; /* keep the sink alive */
}
