/*
 * Benchmark driver: libfido2 against a CTAPHID-over-UDP key (`ctap virtual serve --udp`),
 * attached through fido_dev_set_io_functions() with the I/O callbacks of
 * scripts/interop/udp_io.h (one 64-byte report per datagram, no report id).
 *
 * Driven by bench/clients.ts over stdin/stdout, one command per line, one answer per line:
 *   setup        -> "ok"            (makes the credential getAssertion uses)
 *   run OP N     -> "ok CPU US US ..." (CPU: this process's CPU time over the N calls, then N
 *                   timings, all in microseconds) | "unsupported" | "err MESSAGE"
 *   quit         -> exits
 * OP is getInfo, ping1k, ping7k, makeCredential or getAssertion. libfido2 has no public
 * CTAPHID_PING call, so the ping operations answer "unsupported". Each timing covers the
 * whole libfido2 call including building and freeing its request/response objects (what
 * an application does per ceremony); no signature or attestation is verified.
 * Prints "ready libfido2 VERSION" once the device is open (CTAPHID_INIT + getInfo done).
 *
 * Build: cc libfido2_bench.c $(pkg-config --cflags --libs libfido2) -o libfido2_bench
 * Usage: libfido2_bench HOST PORT
 */
#include <fido.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../interop/udp_io.h" /* the CTAPHID-over-UDP I/O callbacks the interop programs use */

#ifndef BENCH_LIBFIDO2_VERSION /* -DBENCH_LIBFIDO2_VERSION=\"$(pkg-config --modversion libfido2)\" */
#define BENCH_LIBFIDO2_VERSION "unknown"
#endif
#define RP_ID "bench.example.com"
#define USER_ID "bench-user-libfido2"

static fido_dev_t *g_dev;
static unsigned char g_cdh[32];
static unsigned char g_cred_id[1024];
static size_t g_cred_id_len;

static double
clock_us(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Each op returns FIDO_OK or a libfido2 error code. */
static int
op_get_info(void)
{
	fido_cbor_info_t *ci = fido_cbor_info_new();
	int r;
	if (ci == NULL)
		return FIDO_ERR_INTERNAL;
	r = fido_dev_get_cbor_info(g_dev, ci);
	fido_cbor_info_free(&ci);
	return r;
}

static int
make_cred(fido_cred_t **out)
{
	fido_cred_t *cred = fido_cred_new();
	int r;
	if (cred == NULL)
		return FIDO_ERR_INTERNAL;
	if ((r = fido_cred_set_type(cred, COSE_ES256)) != FIDO_OK ||
	    (r = fido_cred_set_clientdata_hash(cred, g_cdh, sizeof(g_cdh))) != FIDO_OK ||
	    (r = fido_cred_set_rp(cred, RP_ID, "Bench RP")) != FIDO_OK ||
	    (r = fido_cred_set_user(cred, (const unsigned char *)USER_ID, strlen(USER_ID), "bench", "Bench", NULL)) != FIDO_OK ||
	    (r = fido_cred_set_rk(cred, FIDO_OPT_OMIT)) != FIDO_OK ||
	    (r = fido_dev_make_cred(g_dev, cred, NULL)) != FIDO_OK) {
		fido_cred_free(&cred);
		return r;
	}
	if (out != NULL)
		*out = cred;
	else
		fido_cred_free(&cred);
	return FIDO_OK;
}

static int
op_make_credential(void)
{
	return make_cred(NULL);
}

static int
op_get_assertion(void)
{
	fido_assert_t *a = fido_assert_new();
	int r;
	if (a == NULL)
		return FIDO_ERR_INTERNAL;
	if ((r = fido_assert_set_clientdata_hash(a, g_cdh, sizeof(g_cdh))) == FIDO_OK &&
	    (r = fido_assert_set_rp(a, RP_ID)) == FIDO_OK &&
	    (r = fido_assert_allow_cred(a, g_cred_id, g_cred_id_len)) == FIDO_OK)
		r = fido_dev_get_assert(g_dev, a, NULL);
	if (r == FIDO_OK && fido_assert_count(a) != 1)
		r = FIDO_ERR_INTERNAL;
	fido_assert_free(&a);
	return r;
}

static void
run(const char *op, long n)
{
	int (*fn)(void) = NULL;
	double *samples;

	if (strcmp(op, "getInfo") == 0)
		fn = op_get_info;
	else if (strcmp(op, "makeCredential") == 0)
		fn = op_make_credential;
	else if (strcmp(op, "getAssertion") == 0)
		fn = op_get_assertion;
	if (fn == NULL) {
		printf("unsupported\n");
		return;
	}
	if (n < 1 || n > 1000000 || (samples = calloc((size_t)n, sizeof(double))) == NULL) {
		printf("err bad iteration count %ld\n", n);
		return;
	}
	double cpu0 = clock_us(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n; i++) {
		double t0 = clock_us(CLOCK_MONOTONIC);
		int r = fn();
		samples[i] = clock_us(CLOCK_MONOTONIC) - t0;
		if (r != FIDO_OK) {
			printf("err %s: %s (%d)\n", op, fido_strerr(r), r);
			free(samples);
			return;
		}
	}
	printf("ok %.1f", clock_us(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
	for (long i = 0; i < n; i++)
		printf(" %.1f", samples[i]);
	printf("\n");
	free(samples);
}

int
main(int argc, char **argv)
{
	char line[256], cmd[32], op[32];
	long n;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(g_cdh); i++)
		g_cdh[i] = (unsigned char)i;

	fido_init(0);
	if ((g_dev = fido_dev_new()) == NULL)
		return 1;
	if ((r = udp_io_attach(g_dev, argv[1], atoi(argv[2]))) != FIDO_OK) {
		printf("err fido_dev_open: %s (%d)\n", fido_strerr(r), r);
		return 1;
	}
	printf("ready libfido2 %s\n", BENCH_LIBFIDO2_VERSION);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (sscanf(line, "%31s", cmd) != 1)
			continue;
		if (strcmp(cmd, "quit") == 0)
			break;
		if (strcmp(cmd, "setup") == 0) {
			fido_cred_t *cred = NULL;
			if ((r = make_cred(&cred)) != FIDO_OK) {
				printf("err setup: %s (%d)\n", fido_strerr(r), r);
			} else if (fido_cred_id_len(cred) > sizeof(g_cred_id)) {
				printf("err setup: credential id too long\n");
				fido_cred_free(&cred);
			} else {
				g_cred_id_len = fido_cred_id_len(cred);
				memcpy(g_cred_id, fido_cred_id_ptr(cred), g_cred_id_len);
				fido_cred_free(&cred);
				printf("ok\n");
			}
		} else if (strcmp(cmd, "run") == 0 && sscanf(line, "%*s %31s %ld", op, &n) == 2) {
			run(op, n);
		} else {
			printf("err unknown command\n");
		}
		fflush(stdout);
	}
	fido_dev_close(g_dev);
	fido_dev_free(&g_dev);
	return 0;
}
