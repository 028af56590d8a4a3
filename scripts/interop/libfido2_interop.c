/*
 * Drive a CTAPHID-over-UDP authenticator (`ctap virtual serve --udp`) with libfido2,
 * attached through fido_dev_set_io_functions(): getInfo, makeCredential (resident and
 * not, attestation verified by fido_cred_verify), getAssertion with and without an allow
 * list (the registered user id must come back, signatures verified by fido_assert_verify),
 * setPIN, a PIN-authenticated ceremony, and a wrong PIN that lowers the retry count.
 * Prints one "ok <step>" line per step; exits non-zero on the first failure.
 *
 * Build: cc libfido2_interop.c $(pkg-config --cflags --libs libfido2) -o libfido2_interop
 * Usage: libfido2_interop HOST PORT
 */
#include <errno.h>
#include <fido.h>
#include <fido/es256.h>
#include <fido/eddsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udp_io.h" /* the CTAPHID-over-UDP I/O callbacks */

#define PIN "7305-interop"
#define RP_ID "interop.example.com"

static void
fail(const char *what, int r)
{
	fprintf(stderr, "FAIL %s: %s (%d)\n", what, fido_strerr(r), r);
	exit(1);
}

#define CHECK(what, expr) do { int r_ = (expr); if (r_ != FIDO_OK) fail(what, r_); } while (0)

static unsigned char cdh[32];

static fido_cred_t *
make_cred(fido_dev_t *dev, const char *user_id, int rk, const char *pin, int type)
{
	fido_cred_t *cred = fido_cred_new();
	if (cred == NULL)
		fail("fido_cred_new", FIDO_ERR_INTERNAL);
	for (size_t i = 0; i < sizeof(cdh); i++)
		cdh[i] = (unsigned char)(i * 7 + rk);
	CHECK("cred type", fido_cred_set_type(cred, type));
	CHECK("cred cdh", fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)));
	CHECK("cred rp", fido_cred_set_rp(cred, RP_ID, "Interop RP"));
	CHECK("cred user", fido_cred_set_user(cred, (const unsigned char *)user_id, strlen(user_id), "user", "User", NULL));
	CHECK("cred rk", fido_cred_set_rk(cred, rk ? FIDO_OPT_TRUE : FIDO_OPT_OMIT));
	CHECK("fido_dev_make_cred", fido_dev_make_cred(dev, cred, pin));
	CHECK("fido_cred_verify (attestation)", fido_cred_verify(cred));
	return cred;
}

static fido_assert_t *
get_assert(fido_dev_t *dev, const fido_cred_t *allow, const char *pin)
{
	fido_assert_t *a = fido_assert_new();
	if (a == NULL)
		fail("fido_assert_new", FIDO_ERR_INTERNAL);
	CHECK("assert cdh", fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)));
	CHECK("assert rp", fido_assert_set_rp(a, RP_ID));
	if (allow != NULL)
		CHECK("assert allow", fido_assert_allow_cred(a, fido_cred_id_ptr(allow), fido_cred_id_len(allow)));
	CHECK("fido_dev_get_assert", fido_dev_get_assert(dev, a, pin));
	return a;
}

static void
verify_assert(fido_assert_t *a, size_t idx, const fido_cred_t *cred, const char *what)
{
	int type = fido_cred_type(cred);
	if (type == COSE_ES256) {
		es256_pk_t *pk = es256_pk_new();
		CHECK("es256_pk_from_ptr", es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred)));
		CHECK(what, fido_assert_verify(a, idx, COSE_ES256, pk));
		es256_pk_free(&pk);
	} else {
		eddsa_pk_t *pk = eddsa_pk_new();
		CHECK("eddsa_pk_from_ptr", eddsa_pk_from_ptr(pk, fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred)));
		CHECK(what, fido_assert_verify(a, idx, COSE_EDDSA, pk));
		eddsa_pk_free(&pk);
	}
}

int
main(int argc, char **argv)
{
	fido_dev_t *dev;
	fido_cbor_info_t *ci;
	int retries_before, retries_after, r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}

	fido_init(0);
	if ((dev = fido_dev_new()) == NULL)
		fail("fido_dev_new", FIDO_ERR_INTERNAL);
	CHECK("fido_dev_open", udp_io_attach(dev, argv[1], atoi(argv[2])));
	if (!fido_dev_is_fido2(dev))
		fail("fido_dev_is_fido2", FIDO_ERR_INTERNAL);

	ci = fido_cbor_info_new();
	CHECK("fido_dev_get_cbor_info", fido_dev_get_cbor_info(dev, ci));
	{
		char **v = fido_cbor_info_versions_ptr(ci);
		size_t n = fido_cbor_info_versions_len(ci);
		int has21 = 0;
		printf("ok getInfo versions=");
		for (size_t i = 0; i < n; i++) {
			printf("%s%s", i ? "," : "", v[i]);
			if (strcmp(v[i], "FIDO_2_1") == 0)
				has21 = 1;
		}
		printf(" protocols=%zu\n", fido_cbor_info_protocols_len(ci));
		if (!has21)
			fail("FIDO_2_1 in versions", FIDO_ERR_INTERNAL);
	}
	fido_cbor_info_free(&ci);

	/* Non-resident ES256 and EdDSA credentials; allow-list assertions verified. */
	fido_cred_t *c1 = make_cred(dev, "libfido2-user-1", 0, NULL, COSE_ES256);
	printf("ok makeCredential non-resident es256 fmt=%s\n", fido_cred_fmt(c1));
	fido_assert_t *a1 = get_assert(dev, c1, NULL);
	verify_assert(a1, 0, c1, "fido_assert_verify es256");
	printf("ok getAssertion allowList es256 sigcount=%u\n", fido_assert_sigcount(a1, 0));
	fido_assert_free(&a1);

	fido_cred_t *c2 = make_cred(dev, "libfido2-user-2", 0, NULL, COSE_EDDSA);
	fido_assert_t *a2 = get_assert(dev, c2, NULL);
	verify_assert(a2, 0, c2, "fido_assert_verify eddsa");
	printf("ok makeCredential+getAssertion eddsa\n");
	fido_assert_free(&a2);

	/* Resident credential: an assertion without an allow list returns the user id. */
	fido_cred_t *c3 = make_cred(dev, "libfido2-resident-9", 1, NULL, COSE_ES256);
	printf("ok makeCredential resident\n");
	fido_assert_t *a3 = get_assert(dev, NULL, NULL);
	if (fido_assert_count(a3) < 1 || fido_assert_user_id_len(a3, 0) != strlen("libfido2-resident-9") ||
	    memcmp(fido_assert_user_id_ptr(a3, 0), "libfido2-resident-9", strlen("libfido2-resident-9")) != 0)
		fail("discoverable assertion user id", FIDO_ERR_INTERNAL);
	verify_assert(a3, 0, c3, "fido_assert_verify resident");
	printf("ok getAssertion discoverable user.id=libfido2-resident-9\n");
	fido_assert_free(&a3);

	/* PIN. */
	CHECK("fido_dev_set_pin", fido_dev_set_pin(dev, PIN, NULL));
	printf("ok setPIN\n");
	CHECK("fido_dev_get_retry_count", fido_dev_get_retry_count(dev, &retries_before));
	fido_cred_t *c4 = make_cred(dev, "libfido2-with-pin", 1, PIN, COSE_ES256);
	if ((fido_cred_flags(c4) & 0x04) == 0)
		fail("UV flag after a PIN-authenticated makeCredential", FIDO_ERR_INTERNAL);
	printf("ok makeCredential with PIN token (UV set)\n");
	fido_assert_t *a4 = get_assert(dev, c4, PIN);
	verify_assert(a4, 0, c4, "fido_assert_verify with PIN");
	if ((fido_assert_flags(a4, 0) & 0x04) == 0)
		fail("UV flag after a PIN-authenticated getAssertion", FIDO_ERR_INTERNAL);
	printf("ok getAssertion with PIN token (UV set)\n");
	fido_assert_free(&a4);

	fido_assert_t *bad = fido_assert_new();
	fido_assert_set_clientdata_hash(bad, cdh, sizeof(cdh));
	fido_assert_set_rp(bad, RP_ID);
	r = fido_dev_get_assert(dev, bad, "0000-wrong");
	fido_assert_free(&bad);
	if (r != FIDO_ERR_PIN_INVALID)
		fail("wrong PIN must give FIDO_ERR_PIN_INVALID", r);
	CHECK("fido_dev_get_retry_count", fido_dev_get_retry_count(dev, &retries_after));
	if (retries_after != retries_before - 1)
		fail("retry count after a wrong PIN", FIDO_ERR_INTERNAL);
	printf("ok wrong PIN retries %d -> %d\n", retries_before, retries_after);

	fido_cred_free(&c1);
	fido_cred_free(&c2);
	fido_cred_free(&c3);
	fido_cred_free(&c4);
	fido_dev_close(dev);
	fido_dev_free(&dev);
	printf("interop: all steps passed\n");
	return 0;
}
